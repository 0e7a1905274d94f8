// Which signature-family tags a run touches: `.sig` only by default (kpromo writes `.att` per
// destination, so a mirror's own `.att` must survive), `.att` on request; and verify
// --check-unsigned, which finds signatures a mirror has for a digest the primary never signed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pushAttestation, pushSignature, sigTag, type TestRegistry } from "../harness/index.ts";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, type Scenario, type ScenarioImage } from "../lib/scenario.ts";
import { readReport, replicationGaps, tagDigest } from "./lib.ts";

describe("tag families and unsigned digests", () => {
  let s: Scenario;
  let m0: TestRegistry;
  let m1: TestRegistry;
  let signed: ScenarioImage;
  let unsigned: ScenarioImage;
  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed: 2, unsigned: 1, indexes: 0 });
    const [a, b] = s.mirrors;
    const sig = s.images.find((i) => i.signature !== undefined);
    const uns = s.images.find((i) => i.signature === undefined);
    if (a === undefined || b === undefined || sig === undefined || uns === undefined) throw new Error("scenario");
    [m0, m1, signed, unsigned] = [a, b, sig, uns];
    expect((await sigmirror(s.args("replicate"))).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  test("by default .att is neither read nor written: the primary's stays there, a mirror's own is untouched", async () => {
    const att = sigTag(signed.image.digest, "att");
    const primaryAtt = await pushAttestation(s.primary, signed.repository, signed.image.digest);
    const mirrorAtt = await pushAttestation(m0, signed.repository, signed.image.digest);
    expect(mirrorAtt.digest).not.toBe(primaryAtt.digest);
    await s.clearLogs();
    const r = await sigmirror(s.args("replicate", "--reverify-after", "0s"));
    expect(r.code).toBe(0);
    for (const reg of [s.primary, ...s.mirrors]) {
      expect((await reg.accessLog()).filter((e) => e.path.includes(".att"))).toEqual([]);
    }
    expect(await tagDigest(m0, signed.repository, att)).toBe(mirrorAtt.digest);
    expect(await tagDigest(m1, signed.repository, att)).toBeUndefined();
  });

  test("--tag-suffixes sig,att copies the primary's .att where there is none; a mirror's own .att is a conflict, kept", async () => {
    const att = sigTag(signed.image.digest, "att");
    const primaryAtt = await tagDigest(s.primary, signed.repository, att);
    const mirrorAtt = await tagDigest(m0, signed.repository, att);
    const reportFile = join(s.dir, "att.json");
    const r = await sigmirror(s.args("replicate", "--tag-suffixes", "sig,att", "--report", reportFile));
    expect(r.code).toBe(1);
    expect(await tagDigest(m1, signed.repository, att)).toBe(primaryAtt);
    expect(await tagDigest(m0, signed.repository, att)).toBe(mirrorAtt);
    const report = readReport(reportFile);
    expect(report.copied).toBe(1);
    expect(report.conflictList.map((c) => `${c.host} ${c.repository}:${c.tag}`)).toEqual([`${m0.host} ${signed.repository}:${att}`]);
    expect(await replicationGaps(s, s.mirrors)).toEqual([]);
  });

  test("--tag-suffixes with an unknown family is exit 2 naming the flag", async () => {
    const r = await sigmirror(s.args("replicate", "--tag-suffixes", "sig,provenance"));
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain("--tag-suffixes");
  });

  test("verify --check-unsigned reports a mirror's signature for a digest the primary has none for, exit 1", async () => {
    const stray = await pushSignature(m1, unsigned.repository, unsigned.image.digest);
    const tag = sigTag(unsigned.image.digest);
    const plain = await sigmirror(s.args("verify"));
    expect(plain.code).toBe(0);
    const reportFile = join(s.dir, "unsigned.json");
    const r = await sigmirror(s.args("verify", "--check-unsigned", "--report", reportFile));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`drift: ${m1.host}/${unsigned.repository}:${tag}: the mirror holds a signature the primary lacks`);
    const drift = readReport(reportFile).drift;
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ host: m1.host, repository: unsigned.repository, tag, digest: stray.digest });
    // replicate never deletes it, and does not count it against the run.
    expect((await sigmirror(s.args("replicate", "--reverify-after", "0s"))).code).toBe(0);
    expect(await tagDigest(m1, unsigned.repository, tag)).toBe(stray.digest);
    expect(await tagDigest(s.primary, unsigned.repository, tag)).toBeUndefined();
  });
});
