// replicate and verify end to end: the CLI from source against real distribution registries.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deleteManifest, pushSignature, readManifest, sigTag, type TestRegistry } from "../harness/index.ts";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, type Scenario, type ScenarioImage } from "../lib/scenario.ts";

async function tagDigest(reg: TestRegistry, repo: string, tag: string): Promise<string | undefined> {
  return (await readManifest(reg, repo, tag))?.digest;
}

/** Every signature the primary holds is on every mirror at the same digest. */
async function expectReplicated(s: Scenario, images: readonly ScenarioImage[]): Promise<void> {
  for (const img of images) {
    const subjects = [img.image.digest, ...img.children.map((c) => c.digest)];
    for (const subject of subjects) {
      const want = await tagDigest(s.primary, img.repository, sigTag(subject));
      for (const m of s.mirrors) expect(await tagDigest(m, img.repository, sigTag(subject))).toBe(want);
    }
  }
}

describe("replicate against real registries", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed: 3, unsigned: 1, indexes: 1 });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("a cold run copies every signature, index children's too, and nothing for unsigned digests", async () => {
    const r = await sigmirror(s.args("replicate", "--report", join(s.dir, "cold.json")));
    expect(r.err).toContain("exit 0");
    expect(r.code).toBe(0);
    await expectReplicated(s, s.images);
    const unsigned = s.images.filter((i) => i.signature === undefined);
    expect(unsigned.length).toBe(1);
    for (const img of unsigned) for (const m of s.mirrors) expect(await tagDigest(m, img.repository, sigTag(img.image.digest))).toBeUndefined();
    const report = JSON.parse(readFileSync(join(s.dir, "cold.json"), "utf8")) as { copied: number; unsigned: number; failed: number };
    // 3 signed + 1 index with 2 signed children = 6 signatures, to 2 mirrors.
    expect(report.copied).toBe(12);
    expect(report.unsigned).toBe(1);
    expect(report.failed).toBe(0);
  });

  test("the run after sends nothing to mirrors, and to the primary only for young or unsigned digests", async () => {
    await s.clearLogs();
    const r = await sigmirror(s.args("replicate"));
    expect(r.code).toBe(0);
    const counts = await s.requests();
    for (const m of s.mirrors) expect(counts[m.host]).toBe(0);
    // Young signatures (6) and the unsigned digest (1): at most two requests each (the .sig tag, and
    // on a registry without the referrers API the `sha256-<hex>` fallback tag), plus the /v2/ ping
    // and the one request that learns the registry has no referrers API.
    expect(counts[s.primary.host]).toBeLessThanOrEqual(7 * 2 + 1 + 1);
  });

  test("a warm run with nothing due sends no request at all", async () => {
    // 100 h on (the test-only clock), signatures are settled and the unsigned digest is old: one run
    // re-reads them, after which nothing is due for about a day.
    const later = { SIGMIRROR_TEST_CLOCK_OFFSET: "100h" };
    expect((await sigmirror(s.args("replicate"), { env: later })).code).toBe(0);
    await s.clearLogs();
    const warm = await sigmirror(s.args("replicate"), { env: { SIGMIRROR_TEST_CLOCK_OFFSET: "101h" } });
    expect(warm.code).toBe(0);
    expect(await s.requests()).toEqual(Object.fromEntries([s.primary, ...s.mirrors].map((x) => [x.host, 0])));
  });

  test("a re-signed primary and a deleted mirror tag are repaired once due", async () => {
    const [a, b] = s.images.filter((i) => i.signature !== undefined && i.children.length === 0);
    if (a === undefined || b === undefined) throw new Error("scenario needs two signed images");
    const mirror = s.mirrors[0];
    if (mirror === undefined) throw new Error("no mirror");
    const resigned = await pushSignature(s.primary, a.repository, a.image.digest, { keepExisting: true });
    const gone = await tagDigest(mirror, b.repository, sigTag(b.image.digest));
    if (gone === undefined) throw new Error("mirror lacks b's signature");
    await deleteManifest(mirror, b.repository, gone);
    const r = await sigmirror(s.args("replicate", "--reverify-after", "0s"));
    expect(r.code).toBe(0);
    expect(r.err).toContain("replaced");
    for (const m of s.mirrors) expect(await tagDigest(m, a.repository, sigTag(a.image.digest))).toBe(resigned.digest);
    expect(await tagDigest(mirror, b.repository, sigTag(b.image.digest))).toBe(gone);
  });

  test("verify reports drift with exit 1, and exit 0 once repaired", async () => {
    const img = s.images.find((i) => i.signature !== undefined && i.children.length === 0);
    const mirror = s.mirrors[1];
    if (img === undefined || mirror === undefined) throw new Error("scenario");
    const d = await tagDigest(mirror, img.repository, sigTag(img.image.digest));
    if (d === undefined) throw new Error("not replicated");
    await deleteManifest(mirror, img.repository, d);
    const v = await sigmirror(s.args("verify"));
    expect(v.code).toBe(1);
    expect(v.err).toMatch(new RegExp(`drift: ${mirror.host}/${img.repository}:${sigTag(img.image.digest)}: missing on the mirror`));
    expect(await tagDigest(mirror, img.repository, sigTag(img.image.digest))).toBeUndefined();
    const fix = await sigmirror(s.args("replicate", "--reverify-after", "0s"));
    expect(fix.code).toBe(0);
    const again = await sigmirror(s.args("verify"));
    expect(again.err).toContain("drift 0");
    expect(again.code).toBe(0);
  });

  test("a mirror holding signatures the primary lacks is a conflict, never overwritten", async () => {
    const img = s.images.find((i) => i.signature !== undefined && i.children.length === 0);
    const mirror = s.mirrors[0];
    if (img === undefined || mirror === undefined) throw new Error("scenario");
    const theirs = await pushSignature(mirror, img.repository, img.image.digest, { keepExisting: false });
    const r = await sigmirror(s.args("replicate", "--reverify-after", "0s"));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`conflict: ${mirror.host}/${img.repository}:${sigTag(img.image.digest)}`);
    expect(await tagDigest(mirror, img.repository, sigTag(img.image.digest))).toBe(theirs.digest);
    const forced = await sigmirror(s.args("replicate", "--reverify-after", "0s", "--force-overwrite"));
    expect(forced.code).toBe(0);
    expect(await tagDigest(mirror, img.repository, sigTag(img.image.digest))).toBe(await tagDigest(s.primary, img.repository, sigTag(img.image.digest)));
  });

  test("a corrupt ledger is exit 2, one line naming it, the file unchanged, nothing sent", async () => {
    const bad = join(s.dir, "corrupt.db");
    writeFileSync(bad, "this is not a ledger\n".repeat(50));
    const before = readFileSync(bad);
    const mtime = statSync(bad).mtimeMs;
    await s.clearLogs();
    const r = await sigmirror([...s.args("replicate").slice(0, -2), "--ledger", bad]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain(bad);
    expect(readFileSync(bad).equals(before)).toBe(true);
    expect(statSync(bad).mtimeMs).toBe(mtime);
    expect(Object.values(await s.requests()).every((n) => n === 0)).toBe(true);
  });

  test("deleting the ledger costs requests, never correctness", async () => {
    const copy = join(s.dir, "fresh.db");
    copyFileSync(s.ledger, `${copy}.bak`);
    const r = await sigmirror([...s.args("replicate").slice(0, -2), "--ledger", copy]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("copied 0,");
    await expectReplicated(s, s.images);
  });
});
