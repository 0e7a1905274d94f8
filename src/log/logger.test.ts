import { describe, expect, test } from "bun:test";
import { createLogger, parseLogFormat, type LogFormat } from "./logger.ts";

const fixed = new Date("2026-12-01T10:20:30.456Z");
const secret = "ya29.c2VjcmV0LWFjY2Vzcy10b2tlbg";

function capture(format: LogFormat) {
  const lines: string[] = [];
  const log = createLogger({ format, write: (l) => lines.push(l), now: () => fixed });
  return { log, lines };
}

describe("text format", () => {
  test("sigmirror: message, then the well-known fields first, compactly", () => {
    const { log, lines } = capture("text");
    log.info("copied", { attempt: 2, digest: "sha256:ab", host: "h.example:5000", tag: "sha256-ab.sig", repository: "a/b" });
    expect(lines).toEqual(["sigmirror: copied host=h.example:5000 repository=a/b tag=sha256-ab.sig digest=sha256:ab attempt=2\n"]);
  });

  test("levels are spelled out for warnings and errors; values with spaces are quoted", () => {
    const { log, lines } = capture("text");
    log.warn("host paused", { host: "h", reason: 'Retry-After 30 "s"', until: undefined });
    log.error("copy failed", { ok: false, empty: "" });
    expect(lines).toEqual([
      'sigmirror: warning: host paused host=h reason="Retry-After 30 \\"s\\""\n',
      'sigmirror: error: copy failed ok=false empty=""\n',
    ]);
  });

  test("one call is one line, whatever the message holds", () => {
    const { log, lines } = capture("text");
    log.info("a\nb\r\u0007c", { reason: "x\ny" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe('sigmirror: a\\nb\\r\\x07c reason="x\\ny"\n');
  });
});

describe("json format", () => {
  test("one object per line with level, time, message and the fields", () => {
    const { log, lines } = capture("json");
    log.info("copied", { host: "h", repository: "a/b", tag: "t", digest: "sha256:ab", bytes: 1234, dryRun: false });
    log.warn("slow", {});
    log.error("failed");
    expect(lines.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects[0]).toEqual({
      level: "info",
      time: "2026-12-01T10:20:30.456Z",
      message: "copied",
      host: "h",
      repository: "a/b",
      tag: "t",
      digest: "sha256:ab",
      bytes: 1234,
      dryRun: false,
    });
    expect(objects.map((o) => o["level"])).toEqual(["info", "warn", "error"]);
  });

  test("a field cannot overwrite level, time or message", () => {
    const { log, lines } = capture("json");
    log.info("real", { level: "error", message: "fake", time: "never" });
    const o = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(o["level"]).toBe("info");
    expect(o["message"]).toBe("real");
    expect(o["field_message"]).toBe("fake");
  });

  test("odd characters survive as valid JSON", () => {
    const { log, lines } = capture("json");
    log.info('quote " backslash \\ nul \u0000 emoji \u{1F600}', { reason: "\n\t" });
    const o = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(o["message"]).toBe('quote " backslash \\ nul \u0000 emoji \u{1F600}');
    expect(o["reason"]).toBe("\n\t");
  });
});

describe("no credential in any line", () => {
  for (const format of ["text", "json"] as const) {
    test(`${format}: secret-named fields masked whole, secrets in messages and values masked`, () => {
      const { log, lines } = capture(format);
      log.info(`GET https://auth.example/token?access_token=${secret}`, { authorization: `Bearer ${secret}` });
      log.warn(`401 with Authorization: Bearer ${secret}`, { password: secret, registryToken: secret });
      log.error("token endpoint said", { body: `{"token":"${secret}","expires_in":60}`, header: `Basic ${secret}` });
      log.info("userinfo", { url: `https://bob:${secret}@r.example/v2/` });
      const all = lines.join("");
      expect(all).not.toContain(secret);
      expect(all).not.toContain("c2VjcmV0");
      expect(all.match(/\*\*\*/g)?.length).toBeGreaterThanOrEqual(7);
      if (format === "json") for (const l of lines) JSON.parse(l);
    });
  }

  test("numbers in secret-named fields (counters) are kept", () => {
    const { log, lines } = capture("text");
    log.info("host done", { host: "h", tokenRequests: 3 });
    expect(lines[0]).toBe("sigmirror: host done host=h tokenRequests=3\n");
  });
});

test("parseLogFormat accepts text and json only", () => {
  expect(parseLogFormat("text")).toBe("text");
  expect(parseLogFormat("json")).toBe("json");
  expect(parseLogFormat("JSON")).toBeUndefined();
  expect(parseLogFormat("")).toBeUndefined();
});
