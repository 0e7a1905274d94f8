// The Go tool chain on loopback, end to end: cosign signs (bundle referrer and legacy .sig) and
// verifies on olareg (referrers API) and on distribution 2.8 (no API: the `sha256-<hex>` fallback
// tag), regctl and oras read and write referrers on both. Skips with one line without the tools.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cosignAttest, cosignKeyPair, cosignSign, cosignVerify, cosignVerifyAttestation, type CosignKeyPair } from "./cosign.ts";
import { describeWithTools } from "./go-tools.ts";
import { registryFetch } from "./http.ts";
import { listTags, pushImage, pushIndex, sigTag } from "./images.ts";
import { orasAttach, orasDiscover, regctlArtifactList } from "./oci-tools.ts";
import { startOlareg, type OlaregRegistry } from "./olareg.ts";
import { startRegistry, type TestRegistry } from "./registry.ts";

const bundleType = "application/vnd.dev.sigstore.bundle.v0.3+json";
const sbomType = "application/vnd.example.sbom+json";
const promotionType = "https://k8s.io/promo-tools/promotion/v1";

const timings: string[] = [];

/** Runs one step and keeps its duration: the tools' cost is part of what this file documents. */
async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    timings.push(`${name} ${Math.round(performance.now() - start)} ms`);
  }
}

describeWithTools(["cosign", "olareg", "regctl", "oras"], "Go test tools on loopback", () => {
  let dir = "";
  let keys: CosignKeyPair;
  let olareg: OlaregRegistry | undefined;
  let distribution: TestRegistry | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sigmirror-go-tools-test-"));
    [olareg, distribution, keys] = await Promise.all([
      timed("start olareg", () => startOlareg()),
      timed("start distribution", () => startRegistry()),
      timed("cosign generate-key-pair", () => cosignKeyPair(dir)),
    ]);
    writeFileSync(join(dir, "sbom.json"), '{"sbom": "test"}\n');
    writeFileSync(join(dir, "promotion.json"), '{"promoted": true}\n');
  }, 30_000);

  afterAll(async () => {
    await Promise.all([olareg?.stop(), distribution?.stop()]);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
    console.log(`go-tools timings: ${timings.join(", ")}`);
  });

  function reg(kind: "olareg" | "distribution"): TestRegistry {
    const r = kind === "olareg" ? olareg : distribution;
    if (!r) throw new Error(`${kind} not started`);
    return r;
  }

  test("olareg answers the referrers API through the counting proxy; stop() ends the process", async () => {
    const r = olareg;
    if (!r) throw new Error("olareg not started");
    const image = await pushImage(r, "probe/app");
    await r.clearLog();
    const res = await registryFetch(r, `/v2/probe/app/referrers/${image.digest}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/vnd.oci.image.index.v1+json");
    expect(await res.json()).toMatchObject({ manifests: [] });
    expect(r.requests()).toBe(1);
    expect(await r.requestCounts()).toEqual({ GET: 1 });

    const other = await startOlareg();
    const pid = other.pid;
    await other.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  for (const kind of ["olareg", "distribution"] as const) {
    test(`${kind}: cosign bundle and legacy signatures verify; regctl and oras see the referrers`, async () => {
      const r = reg(kind);
      const bundled = await timed(`${kind} push image`, () => pushImage(r, "demo/app", { tag: "bundled" }));
      const legacy = await pushImage(r, "demo/app", { tag: "legacy" });
      const bundledRef = `${r.host}/demo/app@${bundled.digest}`;
      const legacyRef = `${r.host}/demo/app@${legacy.digest}`;

      const before = await timed(`${kind} cosign verify (unsigned)`, () => cosignVerify(bundledRef, { key: keys.pub }));
      expect(before.ok).toBe(false);
      expect(before.output).toContain("no signatures found");

      await timed(`${kind} cosign sign (bundle)`, () => cosignSign(bundledRef, { key: keys.key, bundle: true }));
      await timed(`${kind} cosign sign (legacy)`, () => cosignSign(legacyRef, { key: keys.key, bundle: false }));

      const verified = await timed(`${kind} cosign verify (bundle)`, () => cosignVerify(bundledRef, { key: keys.pub }));
      expect(verified.output).toContain("The signatures were verified against the specified public key");
      expect(verified.ok).toBe(true);
      expect((await cosignVerify(legacyRef, { key: keys.pub })).ok).toBe(true);

      // The bundle is a referrer; the legacy signature only a tag, which is no referrer.
      const referrers = await timed(`${kind} regctl artifact list`, () => regctlArtifactList(bundledRef));
      expect(referrers).toHaveLength(1);
      const discovered = await timed(`${kind} oras discover`, () => orasDiscover(bundledRef));
      expect(discovered.map((d) => d.digest)).toEqual(referrers);
      expect(discovered[0]?.artifactType).toBe(bundleType);
      expect(await regctlArtifactList(legacyRef)).toEqual([]);

      const tags = await listTags(r, "demo/app");
      expect(tags).toContain(sigTag(legacy.digest));
      const fallbackTag = bundled.digest.replace(":", "-");
      const api = await registryFetch(r, `/v2/demo/app/referrers/${bundled.digest}`);
      await api.arrayBuffer();
      if (kind === "olareg") {
        // The API answers, so cosign wrote no fallback index.
        expect(api.status).toBe(200);
        expect(tags).not.toContain(fallbackTag);
      } else {
        // No API on distribution 2.8: cosign (go-containerregistry) kept the fallback index itself.
        expect(api.status).toBe(404);
        expect(tags).toContain(fallbackTag);
      }

      const sbomFile = join(dir, "sbom.json");
      const attached = await timed(`${kind} oras attach`, () => orasAttach(bundledRef, { artifactType: sbomType, file: sbomFile }));
      expect((await regctlArtifactList(bundledRef)).sort()).toEqual([...referrers, attached].sort());
      expect(await regctlArtifactList(bundledRef, { artifactType: sbomType })).toEqual([attached]);
      // A new referrer must not disturb the signature.
      expect((await cosignVerify(bundledRef, { key: keys.pub })).ok).toBe(true);
    }, 30_000);

    test(`${kind}: a bundle attestation verifies for its predicate type only`, async () => {
      const r = reg(kind);
      const image = await pushImage(r, "demo/attested");
      const ref = `${r.host}/demo/attested@${image.digest}`;
      const predicateFile = join(dir, "promotion.json");
      await timed(`${kind} cosign attest`, () => cosignAttest(ref, { key: keys.key, predicateFile, type: promotionType, bundle: true }));
      const ok = await timed(`${kind} cosign verify-attestation`, () => cosignVerifyAttestation(ref, { key: keys.pub, type: promotionType }));
      expect(ok.ok).toBe(true);
      const wrong = await cosignVerifyAttestation(ref, { key: keys.pub, type: "https://example.com/other/v1" });
      expect(wrong.ok).toBe(false);
      expect(wrong.output).toContain("none of the attestations matched the predicate type");
      expect(await regctlArtifactList(ref, { artifactType: bundleType })).toHaveLength(1);

      // Legacy mode writes the `.att` tag instead, and verify-attestation finds it there.
      const legacy = await pushImage(r, "demo/attested");
      const legacyRef = `${r.host}/demo/attested@${legacy.digest}`;
      await cosignAttest(legacyRef, { key: keys.key, predicateFile, type: promotionType, bundle: false });
      expect(await listTags(r, "demo/attested")).toContain(sigTag(legacy.digest, "att"));
      expect((await cosignVerifyAttestation(legacyRef, { key: keys.pub, type: promotionType })).ok).toBe(true);
    }, 30_000);

    test(`${kind}: a recursive legacy signing signs the index and every platform manifest (as kpromo does)`, async () => {
      const r = reg(kind);
      const children = [await pushImage(r, "demo/multi"), await pushImage(r, "demo/multi")];
      const index = await pushIndex(r, "demo/multi", children);
      await timed(`${kind} cosign sign -r (index + 2)`, () =>
        cosignSign(`${r.host}/demo/multi@${index.digest}`, { key: keys.key, bundle: false, recursive: true }),
      );
      const tags = await listTags(r, "demo/multi");
      for (const m of [index, ...children]) {
        expect(tags).toContain(sigTag(m.digest));
        expect((await cosignVerify(`${r.host}/demo/multi@${m.digest}`, { key: keys.pub })).ok).toBe(true);
      }
    }, 30_000);
  }
});
