// Prow-native output: $ARTIFACTS/junit_sigmirror.xml with a case per mirror host, and
// --log-format json where every stderr line is one JSON object.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pushSignature, sigTag } from "../harness/index.ts";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, type Scenario } from "../lib/scenario.ts";

describe("Prow output", () => {
  let s: Scenario;
  let artifacts: string;
  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed: 2, unsigned: 0, indexes: 0 });
    artifacts = mkdtempSync(join(tmpdir(), "sigmirror-artifacts-"));
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(artifacts, { recursive: true, force: true });
  });

  test("json logs parse line by line; the JUnit file fails the mirror with a conflict, passes the other", async () => {
    const img = s.images[0];
    const [bad, good] = s.mirrors;
    if (img === undefined || bad === undefined || good === undefined) throw new Error("scenario");
    await pushSignature(bad, img.repository, img.image.digest);
    const r = await sigmirror(s.args("replicate", "--log-format", "json"), { env: { ARTIFACTS: artifacts } });
    expect(r.code).toBe(1);
    const lines = r.err.trimEnd().split("\n");
    const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const o of objects) {
      expect(typeof o["level"]).toBe("string");
      expect(typeof o["time"]).toBe("string");
      expect(typeof o["message"]).toBe("string");
    }
    const conflict = objects.find((o) => String(o["message"]).startsWith("conflict:"));
    expect(conflict?.["host"]).toBe(bad.host);
    expect(conflict?.["repository"]).toBe(img.repository);
    expect(conflict?.["tag"]).toBe(sigTag(img.image.digest));
    expect(objects.some((o) => o["message"] === "copied" || String(o["message"]).startsWith("copied "))).toBe(true);
    expect(objects.some((o) => String(o["message"]).startsWith("replicate: pairs checked"))).toBe(true);

    const xml = readFileSync(join(artifacts, "junit_sigmirror.xml"), "utf8");
    const xmllint = Bun.spawnSync(["xmllint", "--noout", "-"], { stdin: new TextEncoder().encode(xml) });
    expect(xmllint.exitCode).toBe(0);
    const caseOf = (name: string) => new RegExp(`<testcase[^>]*name="${name.replace(/[.]/g, "\\.")}"[^>]*>([\\s\\S]*?)</testcase>|<testcase[^>]*name="${name.replace(/[.]/g, "\\.")}"[^>]*/>`).exec(xml);
    const badCase = caseOf(bad.host);
    const goodCase = caseOf(good.host);
    expect(badCase?.[0]).toContain("<failure");
    expect(badCase?.[0]).toContain(sigTag(img.image.digest));
    expect(goodCase).not.toBeNull();
    expect(goodCase?.[0]).not.toContain("<failure");
  });
});
