// OCI 1.1 referrers end to end with the tools users verify with: cosign v3 signs (Sigstore bundles
// as referrers, one legacy .sig) and attests on the primary; sigmirror replicates; cosign verify
// and verify-attestation then pass on every mirror, regctl lists the primary's referrers there, a
// foreign referrer in a fallback index survives, and the runs after ask nothing of the mirrors.
// Primary olareg (referrers API) and, separately, distribution 2.8 (none); mirrors one of each.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cosignAttest, cosignKeyPair, cosignSign, cosignVerify, cosignVerifyAttestation, type CosignKeyPair } from "../harness/cosign.ts";
import { describeWithTools } from "../harness/go-tools.ts";
import { pushImage, pushIndex, type Pushed, type TestRegistry } from "../harness/index.ts";
import { orasAttach, regctlArtifactList } from "../harness/oci-tools.ts";
import { startOlareg } from "../harness/olareg.ts";
import { startRegistry } from "../harness/registry.ts";
import { sigmirror } from "../lib/cli.ts";
import { writeThinManifests } from "../lib/scenario.ts";

const promotionType = "https://k8s.io/promo-tools/promotion/v1";
const laterType = "https://slsa.dev/provenance/v1";

interface Setup {
  readonly primary: TestRegistry;
  readonly api: TestRegistry;
  readonly plain: TestRegistry;
  readonly dir: string;
  readonly keys: CosignKeyPair;
  /** name -> the image (an index for "multi"), pushed to every registry. */
  readonly images: Map<string, Pushed>;
  readonly children: Pushed[];
  readonly foreign: string;
  args(...extra: string[]): string[];
  requests(): Promise<Record<string, number>>;
  clear(): Promise<void>;
  stop(): Promise<void>;
}

const ref = (r: TestRegistry, name: string, digest: string) => `${r.host}/prod/${name}@${digest}`;
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

async function setUp(primaryKind: "olareg" | "distribution"): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-referrers-"));
  const regs: TestRegistry[] = [];
  try {
    const [primary, api, plain, keys] = await Promise.all([primaryKind === "olareg" ? startOlareg() : startRegistry(), startOlareg(), startRegistry(), cosignKeyPair(dir)]);
    regs.push(primary, api, plain);
    const images = new Map<string, Pushed>();
    for (const name of ["bundle", "legacy", "attested"]) {
      let img: Pushed | undefined;
      for (const r of regs) img = await pushImage(r, `prod/${name}`, { seed: `${primaryKind}-${name}`, tag: "v1" });
      if (img !== undefined) images.set(name, img);
    }
    const children: Pushed[] = [];
    for (const arch of ["amd64", "arm64"]) {
      let c: Pushed | undefined;
      for (const r of regs) c = await pushImage(r, "prod/multi", { seed: `${primaryKind}-multi-${arch}` });
      if (c !== undefined) children.push(c);
    }
    let index: Pushed | undefined;
    for (const r of regs) index = await pushIndex(r, "prod/multi", children, { tag: "v1" });
    if (index !== undefined) images.set("multi", index);
    const digest = (name: string) => images.get(name)?.digest ?? "";

    // The primary's signatures: cosign v3 bundles, one legacy .sig, a kpromo-like attestation.
    await cosignSign(ref(primary, "bundle", digest("bundle")), { key: keys.key, bundle: true });
    await cosignSign(ref(primary, "legacy", digest("legacy")), { key: keys.key, bundle: false });
    await cosignSign(ref(primary, "attested", digest("attested")), { key: keys.key, bundle: true });
    const predicate = join(dir, "promotion.json");
    writeFileSync(predicate, JSON.stringify({ promoted: true, from: "staging" }));
    await cosignAttest(ref(primary, "attested", digest("attested")), { key: keys.key, predicateFile: predicate, type: promotionType, bundle: true });
    await cosignSign(ref(primary, "multi", digest("multi")), { key: keys.key, bundle: true, recursive: true });

    // Another writer's referrer on the mirror without the API: a fallback index exists already.
    const sbom = join(dir, "sbom.json");
    writeFileSync(sbom, JSON.stringify({ spdxVersion: "SPDX-2.3" }));
    const foreign = await orasAttach(ref(plain, "bundle", digest("bundle")), { artifactType: "application/vnd.example.sbom+json", file: sbom });

    const thinDir = join(dir, "manifests");
    writeThinManifests(thinDir, [primary.host, api.host, plain.host], [...images].map(([name, img]) => ({ name, digest: img.digest, tag: "v1" })));
    const ledger = join(dir, "state.db");
    return {
      primary,
      api,
      plain,
      dir,
      keys,
      images,
      children,
      foreign,
      args: (...extra) => ["replicate", "--thin-manifest-dir", thinDir, "--primary", primary.host, "--ledger", ledger, ...extra],
      async requests() {
        const out: Record<string, number> = {};
        for (const r of regs) out[r.host] = total(await r.requestCounts());
        return out;
      },
      async clear() {
        for (const r of regs) await r.clearLog();
      },
      async stop() {
        for (const r of regs) await r.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const r of regs) await r.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Every (repository name, digest) cosign must verify: the images, the index and its children. */
function subjects(s: Setup): [string, string][] {
  return [...[...s.images].map(([name, img]): [string, string] => [name, img.digest]), ...s.children.map((c): [string, string] => ["multi", c.digest])];
}

describeWithTools(["cosign", "olareg", "regctl", "oras"], "referrers replicated, proven by cosign", () => {
  for (const primaryKind of ["olareg", "distribution"] as const) {
    describe(`primary ${primaryKind}`, () => {
      let s: Setup;
      beforeAll(async () => {
        s = await setUp(primaryKind);
      }, 120_000);
      afterAll(async () => {
        await s?.stop();
      });

      test("cosign verify fails on the mirrors before, passes on every mirror for every image and child after", async () => {
        for (const m of [s.api, s.plain]) {
          const before = await cosignVerify(ref(m, "bundle", s.images.get("bundle")?.digest ?? ""), { key: s.keys.pub });
          expect(before.ok).toBe(false);
        }
        await s.clear();
        const r = await sigmirror(s.args());
        expect(r.err).toContain("exit 0");
        expect(r.code).toBe(0);
        // Nothing is ever written to a primary repository.
        const methods = await s.primary.requestCounts();
        expect(["PUT", "POST", "PATCH", "DELETE"].filter((m) => (methods[m] ?? 0) > 0)).toEqual([]);
        for (const m of [s.api, s.plain]) {
          for (const [name, digest] of subjects(s)) {
            const v = await cosignVerify(ref(m, name, digest), { key: s.keys.pub });
            if (!v.ok) throw new Error(`cosign verify ${ref(m, name, digest)}: ${v.output.slice(-600)}`);
          }
          const a = await cosignVerifyAttestation(ref(m, "attested", s.images.get("attested")?.digest ?? ""), { key: s.keys.pub, type: promotionType });
          if (!a.ok) throw new Error(`cosign verify-attestation on ${m.host}: ${a.output.slice(-600)}`);
        }
      }, 120_000);

      test("regctl lists the primary's referrer digests on each mirror; the foreign one stays in the fallback index", async () => {
        for (const [name, digest] of subjects(s)) {
          const want = (await regctlArtifactList(ref(s.primary, name, digest))).sort();
          expect((await regctlArtifactList(ref(s.api, name, digest))).sort()).toEqual(want);
          const plain = (await regctlArtifactList(ref(s.plain, name, digest))).sort();
          expect(plain).toEqual(name === "bundle" ? [...want, s.foreign].sort() : want);
        }
        // ledger explain and verify show referrers per mirror.
        const attested = s.images.get("attested")?.digest ?? "";
        const explained = await sigmirror(["ledger", "explain", `prod/attested@${attested}`, "--ledger", s.args()[6] ?? ""]);
        expect(explained.code).toBe(0);
        for (const d of await regctlArtifactList(ref(s.primary, "attested", attested))) expect(explained.out).toContain(`referrer ${d}`);
        expect(explained.out).toContain(`${s.api.host} (mirror)`);
        expect(explained.out).toContain(`${s.plain.host} (mirror)`);
        const reportFile = join(s.dir, "verify.json");
        const v = await sigmirror(["verify", ...s.args().slice(1, 5), "--report", reportFile]);
        expect(v.code).toBe(0);
        const report = JSON.parse(await Bun.file(reportFile).text()) as { referrers: { checked: number; there: number } };
        expect(report.referrers.checked).toBeGreaterThan(0);
        expect(report.referrers.there).toBe(report.referrers.checked);
      }, 60_000);

      test("the run right after asks no mirror; a settled run asks no host; a later attestation is carried at its next due check", async () => {
        await s.clear();
        expect((await sigmirror(s.args())).code).toBe(0);
        const next = await s.requests();
        expect([next[s.api.host], next[s.plain.host]]).toEqual([0, 0]);
        expect((await sigmirror(s.args(), { env: { SIGMIRROR_TEST_CLOCK_OFFSET: "3h" } })).code).toBe(0);
        await s.clear();
        expect((await sigmirror(s.args(), { env: { SIGMIRROR_TEST_CLOCK_OFFSET: "3h30m" } })).code).toBe(0);
        expect(total(await s.requests())).toBe(0);

        const attested = s.images.get("attested")?.digest ?? "";
        const predicate = join(s.dir, "later.json");
        writeFileSync(predicate, JSON.stringify({ buildType: "later" }));
        await cosignAttest(ref(s.primary, "attested", attested), { key: s.keys.key, predicateFile: predicate, type: laterType, bundle: true });
        const r = await sigmirror(s.args("--reverify-after", "0s"), { env: { SIGMIRROR_TEST_CLOCK_OFFSET: "4h" } });
        expect(r.code).toBe(0);
        for (const m of [s.api, s.plain]) {
          const a = await cosignVerifyAttestation(ref(m, "attested", attested), { key: s.keys.pub, type: laterType });
          if (!a.ok) throw new Error(`cosign verify-attestation (later) on ${m.host}: ${a.output.slice(-600)}`);
        }
      }, 120_000);
    });
  }
});
