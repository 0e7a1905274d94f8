// Referrers through the in-memory RegistryPort: Sigstore bundles and attestations carried to a
// mirror with the referrers API and to one without it (the fallback index, others' entries kept),
// nothing ever written to the primary, a settled run asking nothing, later attestations found.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ledger } from "../ledger/ledger.ts";
import { Engine, type EngineOptions, type ReplicaGroup } from "./engine.ts";
import { fallbackTag, imageManifest, indexManifest, MemoryRegistry, testEngineOptions, referrerManifest, referrersIndex, type Call } from "./memory-port.test-util.ts";
import { parseSelection } from "./referrer-selection.ts";
import { defaultSchedule } from "./schedule.ts";

const P = "primary.example";
const API = "api-mirror.example";
const TAG = "tag-mirror.example";
const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";
const INTOTO = "application/vnd.in-toto+json";
const SBOM = "application/spdx+json";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function ledgerPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-referrers-"));
  dirs.push(dir);
  return join(dir, "state.db");
}

let clockMs = 1_800_000_000_000;

function options(over: Partial<EngineOptions> = {}): EngineOptions {
  return testEngineOptions(() => clockMs, over);
}

/** One run on a freshly opened ledger, as the CLI does. */
async function run(reg: MemoryRegistry, path: string, groups: readonly ReplicaGroup[], over: Partial<EngineOptions> = {}): Promise<Engine> {
  const l = Ledger.openForRun(path);
  try {
    const e = new Engine(reg, l, options(over));
    await e.run(groups);
    return e;
  } finally {
    l.close();
  }
}

interface World {
  readonly reg: MemoryRegistry;
  readonly groups: ReplicaGroup[];
  readonly image: string;
  readonly bundle: string;
  readonly attestation: string;
}

/** An image on every host; on the primary (with the API) a bundle and an attestation, no .sig. */
function world(primaryApi = true): World {
  const reg = new MemoryRegistry();
  reg.referrersApi.add(API);
  if (primaryApi) reg.referrersApi.add(P);
  const repo = "prod/app";
  const bytes = imageManifest("app");
  const image = reg.put(P, repo, bytes);
  reg.put(API, repo, bytes);
  reg.put(TAG, repo, bytes);
  const bundle = reg.put(P, repo, referrerManifest(image, BUNDLE, "bundle"));
  const attestation = reg.put(P, repo, referrerManifest(image, INTOTO, "provenance"));
  if (!primaryApi) {
    reg.put(P, repo, referrersIndex([{ digest: bundle, artifactType: BUNDLE }, { digest: attestation, artifactType: INTOTO }]), fallbackTag(image));
  }
  return { reg, groups: [{ repository: repo, digest: image, primary: P, mirrors: [API, TAG].sort() }], image, bundle, attestation };
}

const listedOn = async (reg: MemoryRegistry, host: string, digest: string): Promise<string[]> =>
  (await reg.referrers(host, "prod/app", digest)).referrers.map((r) => r.digest).sort();
const writesTo = (calls: readonly Call[], host: string) => calls.filter((c) => c.host === host && (c.op === "copy" || c.op === "put"));

describe("referrers", () => {
  test.each([true, false])("primary with the API: %p. Bundle and attestation reach both mirrors; the primary is never written to", async (primaryApi) => {
    const w = world(primaryApi);
    const e = await run(w.reg, ledgerPath(), w.groups);
    expect(e.tally.failures).toEqual([]);
    const want = [w.bundle, w.attestation].sort();
    expect(await listedOn(w.reg, API, w.image)).toEqual(want);
    // The mirror without the API: the fallback tag's index lists them, and it serves each by digest.
    expect(await listedOn(w.reg, TAG, w.image)).toEqual(want);
    for (const d of want) expect(await w.reg.headManifest(TAG, "prod/app", d)).toBeDefined();
    expect(w.reg.tagDigest(API, "prod/app", fallbackTag(w.image))).toBeUndefined();
    expect(writesTo(w.reg.calls, P)).toEqual([]);
    expect(e.tally.referrers.copied).toBe(4);
  });

  test("a primary without the API: every child of an index found through its fallback tag", async () => {
    const reg = new MemoryRegistry();
    reg.referrersApi.add(API);
    const repo = "prod/multi";
    const children = ["amd64", "arm64", "s390x"].map((a) => {
      const bytes = imageManifest(a);
      for (const h of [P, API, TAG]) reg.put(h, repo, bytes);
      return reg.put(P, repo, bytes);
    });
    const index = indexManifest(children);
    let digest = "";
    for (const h of [P, API, TAG]) digest = reg.put(h, repo, index);
    const bundles = [digest, ...children].map((d) => {
      const b = reg.put(P, repo, referrerManifest(d, BUNDLE, `bundle-${d}`));
      reg.put(P, repo, referrersIndex([{ digest: b, artifactType: BUNDLE }]), fallbackTag(d));
      return b;
    });
    const e = await run(reg, ledgerPath(), [{ repository: repo, digest, primary: P, mirrors: [API, TAG].sort() }]);
    expect(e.tally.unsigned).toBe(0);
    expect(e.tally.referrers.copied).toBe(bundles.length * 2);
    for (const [i, d] of [digest, ...children].entries()) {
      expect((await reg.referrers(TAG, repo, d)).referrers.map((r) => r.digest)).toEqual([bundles[i] ?? ""]);
    }
  });

  test("the next run asks no mirror; once settled, no host at all", async () => {
    const w = world();
    const path = ledgerPath();
    await run(w.reg, path, w.groups);
    w.reg.calls.length = 0;
    clockMs += 30 * 60_000;
    await run(w.reg, path, w.groups);
    expect(w.reg.calls.filter((c) => c.host !== P)).toEqual([]);
    // Past --settle the primary is read once more, then nothing is due for a re-verify window.
    clockMs += 3 * 3600_000;
    await run(w.reg, path, w.groups);
    w.reg.calls.length = 0;
    clockMs += 30 * 60_000;
    await run(w.reg, path, w.groups);
    expect(w.reg.calls).toEqual([]);
  });

  test("a foreign referrer already in a mirror's fallback index stays beside the new ones", async () => {
    const w = world();
    const foreign = w.reg.put(TAG, "prod/app", referrerManifest(w.image, "application/vnd.example.sbom", "theirs"));
    w.reg.put(TAG, "prod/app", indexManifest([foreign]), fallbackTag(w.image));
    await run(w.reg, ledgerPath(), w.groups);
    expect(await listedOn(w.reg, TAG, w.image)).toEqual([foreign, w.bundle, w.attestation].sort());
  });

  test("an entry whose manifest is gone is reported and left out (distribution would refuse the index)", async () => {
    const w = world();
    const gone = `sha256:${"9".repeat(64)}`;
    const other = w.reg.put(TAG, "prod/app", referrerManifest(w.image, "application/vnd.example", "x"));
    w.reg.put(TAG, "prod/app", new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: gone, size: 1 }, { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: other, size: 1 }] })), fallbackTag(w.image));
    const events: string[] = [];
    await run(w.reg, ledgerPath(), w.groups, { onEvent: (ev) => events.push(ev.kind) });
    expect(await listedOn(w.reg, TAG, w.image)).toEqual([other, w.bundle, w.attestation].sort());
    expect(events).toContain("index-entry-gone");
  });

  test("an attestation added later to a settled image is replicated at its next due check, at once with --reverify-after 0s", async () => {
    const w = world();
    const path = ledgerPath();
    await run(w.reg, path, w.groups);
    clockMs += 3 * 3600_000; // past --settle: the next check is a re-verify window away
    await run(w.reg, path, w.groups);
    const later = w.reg.put(P, "prod/app", referrerManifest(w.image, INTOTO, "added-later"));
    clockMs += 3600_000;
    await run(w.reg, path, w.groups);
    expect(await listedOn(w.reg, API, w.image)).not.toContain(later);
    await run(w.reg, path, w.groups, { schedule: { ...defaultSchedule, force: true } });
    expect(await listedOn(w.reg, API, w.image)).toContain(later);
    expect(await listedOn(w.reg, TAG, w.image)).toContain(later);
    // Without a flag: within one re-verify window.
    const later2 = w.reg.put(P, "prod/app", referrerManifest(w.image, INTOTO, "added-later-2"));
    clockMs += 25 * 3600_000;
    await run(w.reg, path, w.groups);
    expect(await listedOn(w.reg, TAG, w.image)).toContain(later2);
  });

  test("SBOMs only when asked; widening the selection re-reads the primary at once; depth 2 follows the same filter", async () => {
    const w = world();
    const sbom = w.reg.put(P, "prod/app", referrerManifest(w.image, SBOM, "sbom"));
    const sbomSig = w.reg.put(P, "prod/app", referrerManifest(sbom, BUNDLE, "sbom-signature"));
    const path = ledgerPath();
    await run(w.reg, path, w.groups);
    expect(await listedOn(w.reg, API, w.image)).not.toContain(sbom);
    const wide = parseSelection(`${BUNDLE},${INTOTO},${SBOM}`);
    if (wide === undefined) throw new Error("selection");
    await run(w.reg, path, w.groups, { referrers: wide });
    expect(await listedOn(w.reg, API, w.image)).toContain(sbom);
    expect(await listedOn(w.reg, API, sbom)).toEqual([sbomSig]);
    expect(await listedOn(w.reg, TAG, sbom)).toEqual([sbomSig]);
  });

  test("verify reports a referrer missing on a mirror as drift; --referrers none asks nothing about referrers", async () => {
    const w = world();
    const e = await run(w.reg, ledgerPath(), w.groups, { verb: "verify", dryRun: true });
    expect(e.tally.drift.length).toBe(4);
    expect(writesTo(w.reg.calls, API)).toEqual([]);
    w.reg.calls.length = 0;
    await run(w.reg, ledgerPath(), w.groups, { referrers: { kind: "none" } });
    expect(w.reg.calls.filter((c) => c.op === "referrers")).toEqual([]);
  });
});

describe("verify --check-unsigned and referrers", () => {
  test("a mirror's referrers the primary lacks are listed, not drift", async () => {
    const w = world();
    const path = ledgerPath();
    await run(w.reg, path, w.groups);
    const theirs = w.reg.put(API, "prod/app", referrerManifest(w.image, SBOM, "their-sbom"));
    const events: { kind: string; digest?: string }[] = [];
    const e = await run(w.reg, path, w.groups, { verb: "verify", dryRun: true, checkUnsigned: true, onEvent: (ev) => events.push({ kind: ev.kind, ...("digest" in ev && ev.digest !== undefined ? { digest: ev.digest } : {}) }) });
    expect(e.tally.drift).toEqual([]);
    expect(events.filter((x) => x.kind === "foreign-referrer").map((x) => x.digest)).toEqual([theirs]);
  });
});
