// A mirror whose tag listing lies while it holds another signer's .sig: whatever the listing says
// (404, `tags` null or missing, stale), the tag is read before anything is written under it, and
// the foreign signature is a conflict: kept, counted, exit 1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pushSignature, sigTag, startFaultProxy, type FaultProxy, type TestRegistry } from "../harness/index.ts";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, writeThinManifests, type Scenario } from "../lib/scenario.ts";
import { readReport, tagDigest } from "./lib.ts";

const lies: [string, number, string][] = [
  ["404", 404, JSON.stringify({ errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry" }] })],
  ["tags null", 200, JSON.stringify({ name: "prod/multiarch-0", tags: null })],
  ["tags missing", 200, JSON.stringify({ name: "prod/multiarch-0" })],
  ["stale", 200, JSON.stringify({ name: "prod/multiarch-0", tags: ["v1"] })],
];

describe("a tag listing that lies", () => {
  let s: Scenario;
  let mirror: TestRegistry;
  let foreign: string;
  let tag: string;
  let repository: string;
  beforeAll(async () => {
    // An index and its two children, all signed: three tags to look up in one repository, so a
    // listing is worth asking for when nothing says the tags exist.
    s = await startScenario({ mirrors: 1, signed: 0, unsigned: 0, indexes: 1 });
    const [m] = s.mirrors;
    const img = s.images[0];
    if (m === undefined || img === undefined) throw new Error("scenario");
    mirror = m;
    repository = img.repository;
    tag = sigTag(img.image.digest);
    foreign = (await pushSignature(mirror, repository, img.image.digest, { seed: "another-signer" })).digest;
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  test.each(lies)("listing %s: the foreign signature is a conflict, never overwritten", async (name, status, body) => {
    let proxy: FaultProxy | undefined;
    try {
      proxy = await startFaultProxy({ upstream: mirror.url, rules: [{ respond: { status, body }, match: (r) => r.method === "GET" && r.path.includes("/tags/list") }] });
      const thinDir = join(s.dir, `manifests-${name.replace(/ /g, "-")}`);
      writeThinManifests(thinDir, [s.primary.host, proxy.host], s.images.map((i) => ({ name: i.name, digest: i.image.digest, tag: "v1" })));
      const reportFile = join(s.dir, `lie-${name.replace(/ /g, "-")}.json`);
      const ledger = join(s.dir, `lie-${name.replace(/ /g, "-")}.db`);
      const r = await sigmirror(["replicate", "--thin-manifest-dir", thinDir, "--primary", s.primary.host, "--ledger", ledger, "--report", reportFile]);
      expect(await tagDigest(mirror, repository, tag)).toBe(foreign);
      const report = readReport(reportFile);
      expect(report.conflicts).toBe(1);
      expect(report.conflictList[0]?.tag).toBe(tag);
      expect(report.replaced).toBe(0);
      expect(r.code).toBe(1);
      expect(r.err).toContain("conflicts 1");
    } finally {
      await proxy?.stop();
    }
  }, 60_000);

  test("verify calls the foreign signature a conflict too, as replicate does, and counts it in conflicts", async () => {
    const reportFile = join(s.dir, "verify.json");
    const r = await sigmirror(["verify", "--thin-manifest-dir", s.thinDir, "--primary", s.primary.host, "--report", reportFile]);
    expect(r.code).toBe(1);
    const report = readReport(reportFile);
    expect(report.conflicts).toBe(1);
    expect(report.conflictList[0]?.tag).toBe(tag);
    expect(report.drift.filter((d) => d.tag === tag)).toEqual([]);
    expect(r.err).toContain(`conflict: ${mirror.host}/${repository}:${tag}`);
    expect(r.err).not.toContain("stale");
  }, 60_000);
});
