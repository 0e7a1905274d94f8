// --dry-run reads and says what it would do, writes no registry and no ledger, takes no lock;
// a second writing run on a ledger in use refuses with one line, exit 2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { deleteManifest, pushSignature, sigTag, type TestRegistry } from "../harness/index.ts";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, type Scenario } from "../lib/scenario.ts";
import { signedSubjects, startSigmirror, tagDigest } from "./lib.ts";

const writeMethods = new Set(["PUT", "POST", "PATCH", "DELETE"]);

async function writesSince(regs: readonly TestRegistry[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of regs) for (const e of await r.accessLog()) if (writeMethods.has(e.method)) out.push(`${r.host} ${e.method} ${e.path}`);
  return out;
}

/**
 * The ledger as its content: the main file's bytes and mtime, and the WAL's length (a read-only
 * SQLite connection may leave an empty -wal and a -shm beside a WAL database: no content).
 */
function snapshot(path: string): { main: string | null; wal: number } {
  return {
    main: existsSync(path) ? `${statSync(path).mtimeMs} ${readFileSync(path).toString("base64")}` : null,
    wal: existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0,
  };
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

describe("--dry-run and the run lock", () => {
  let s: Scenario;
  let all: TestRegistry[];
  let pairs: number;
  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed: 3, unsigned: 1, indexes: 1 });
    all = [s.primary, ...s.mirrors];
    pairs = signedSubjects(s.images).length * s.mirrors.length;
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  test("a cold dry run reads, prints every would-copy, writes nothing, creates no ledger", async () => {
    await s.clearLogs();
    const r = await sigmirror(s.args("replicate", "--dry-run"));
    expect(r.code).toBe(0);
    expect((r.err.match(/sigmirror: would copy /g) ?? []).length).toBe(pairs);
    expect(r.err).toContain(`would copy ${pairs},`);
    expect(r.err).not.toMatch(/sigmirror: copied /);
    // The summary's every count of a write says "would", per host too.
    expect(r.err).not.toMatch(/, (copied|replaced) \d/);
    expect(r.err).toMatch(/\(mirror\): .*would copy \d+, would replace 0/);
    const counts = await s.requests();
    expect(counts[s.primary.host]).toBeGreaterThan(0);
    for (const m of s.mirrors) expect(counts[m.host]).toBeGreaterThan(0);
    expect(await writesSince(all)).toEqual([]);
    for (const f of [s.ledger, `${s.ledger}-wal`, `${s.ledger}-shm`, `${s.ledger}.lock`]) expect(existsSync(f)).toBe(false);
    for (const { repository, digest } of signedSubjects(s.images)) {
      for (const m of s.mirrors) expect(await tagDigest(m, repository, sigTag(digest))).toBeUndefined();
    }
  });

  test("a warm dry run with drift prints would-replace and would-copy, leaves registries and ledger as they were", async () => {
    expect((await sigmirror(s.args("replicate"))).code).toBe(0);
    const [a, b] = s.images.filter((i) => i.signature !== undefined && i.children.length === 0);
    const mirror = s.mirrors[0];
    if (a === undefined || b === undefined || mirror === undefined) throw new Error("scenario");
    const before = await tagDigest(mirror, a.repository, sigTag(a.image.digest));
    const resigned = await pushSignature(s.primary, a.repository, a.image.digest, { keepExisting: true });
    const gone = await tagDigest(mirror, b.repository, sigTag(b.image.digest));
    if (gone === undefined || before === undefined) throw new Error("not replicated");
    await deleteManifest(mirror, b.repository, gone);
    const ledgerBefore = snapshot(s.ledger);
    await s.clearLogs();

    const r = await sigmirror(s.args("replicate", "--dry-run", "--reverify-after", "0s"));
    expect(r.code).toBe(0);
    expect(r.err).toContain(`would replace ${mirror.host}/${a.repository}:${sigTag(a.image.digest)} ${before} with ${resigned.digest}`);
    expect(r.err).toContain(`would copy ${b.repository}:${sigTag(b.image.digest)} to ${mirror.host}`);
    expect(await writesSince(all)).toEqual([]);
    expect(snapshot(s.ledger)).toEqual(ledgerBefore);
    expect(await tagDigest(mirror, a.repository, sigTag(a.image.digest))).toBe(before);
    expect(await tagDigest(mirror, b.repository, sigTag(b.image.digest))).toBeUndefined();
    // Repaired for real, so the next test starts in order.
    expect((await sigmirror(s.args("replicate", "--reverify-after", "0s"))).code).toBe(0);
  });

  test("while a run holds the ledger: a second run refuses (one line, exit 2), a dry run works", async () => {
    await s.clearLogs();
    // Slow: every pair re-checked at 2 requests/s per host.
    const first = startSigmirror(s.args("replicate", "--reverify-after", "0s", "--rate-default", "2"));
    try {
      await until("the first run's first request", async () => ((await s.requests())[s.primary.host] ?? 0) > 0);
      const second = await sigmirror(s.args("replicate"));
      expect(second.code).toBe(2);
      const lines = second.err.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toStartWith("sigmirror: ");
      expect(lines[0]).toContain(s.ledger);
      expect(lines[0]).toContain("in use by another sigmirror run");

      const ledgerBefore = snapshot(s.ledger);
      const dry = await sigmirror(s.args("replicate", "--dry-run"));
      expect(dry.code).toBe(0);
      expect(dry.err).toContain("would copy 0,");
      const verify = await sigmirror(s.args("verify"));
      expect(verify.code).toBe(0);
      expect(first.proc.exitCode).toBeNull(); // the lock really was held all along
      expect(snapshot(s.ledger).main).toEqual(ledgerBefore.main);
    } finally {
      first.proc.kill("SIGTERM");
      await first.done;
      first.kill();
    }
    expect((await first.done).code).toBe(143);
    // The lock went with the first run.
    expect((await sigmirror(s.args("replicate"))).code).toBe(0);
  }, 60_000);
});
