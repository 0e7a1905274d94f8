// The scenario bench/peers.ts runs every tool on: a distribution primary with a few hundred
// promoted images in a dozen+ repositories, signed as kpromo's world has them, and mirror sets
// (2 distribution + 1 olareg, the only one with the referrers API) started fresh for each tool so
// every tool starts from the same state: images promoted, no signatures. Plus the correctness
// check that decides whether a tool's figures count at all.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cosignAttest, cosignKeyPair, cosignSign, cosignVerify, cosignVerifyAttestation, type CosignKeyPair } from "../test/harness/cosign.ts";
import { expectStatus, listTags, pushAttestation, pushImage, pushIndex, pushSignature, readManifest, startRegistry, type Pushed, type TestRegistry } from "../test/harness/index.ts";
import { startOlareg } from "../test/harness/olareg.ts";
import { promotionPredicate, pushReferrer } from "../test/harness/referrers.ts";
import { PROJECT_PATH } from "../test/lib/scenario.ts";

export const REPOSITORIES = [
  "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "coredns", "etcd", "pause",
  "metrics-server", "ingress-nginx", "cluster-autoscaler", "kube-state-metrics", "csi-provisioner", "csi-attacher", "node-problem-detector",
];
/** How the cosign-signed sample is signed, in turn (image i of the sample takes mode i % 4). */
const COSIGN_MODES = ["legacy .sig", "bundle referrer", "legacy .sig + legacy .att", "bundle referrer + bundle attestation"] as const;
export const COSIGN_SAMPLE = 10;

export interface BenchImage {
  readonly name: string;
  readonly repository: string;
  readonly tag: string;
  readonly image: Pushed;
  readonly children: readonly Pushed[];
  /** How its signatures were written, for the printout. */
  how: string;
}

/** Runs fn over items, `width` at a time. */
export async function inBatches<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** Every 8th image is a multi-arch index of 2 children; images go round-robin over the repositories. */
export function planImages(count: number): { name: string; tag: string; index: boolean }[] {
  return Array.from({ length: count }, (_, i) => ({ name: REPOSITORIES[i % REPOSITORIES.length] ?? "x", tag: `v1.${Math.floor(i / REPOSITORIES.length)}.0`, index: i % 8 === 3 }));
}

/** Pushes the images to reg (same seeds on every host => same digests), a repository's images in order. */
export async function promote(reg: TestRegistry, plan: readonly { name: string; tag: string; index: boolean }[]): Promise<BenchImage[]> {
  const out: BenchImage[] = [];
  await inBatches(REPOSITORIES, 6, async (name) => {
    const repository = `${PROJECT_PATH}/${name}`;
    for (const p of plan.filter((q) => q.name === name)) out.push(await promoteOne(reg, p));
  });
  // In plan order, not completion order: which image is signed how (by its index) is the same in every bench run.
  const at = (i: BenchImage): number => plan.findIndex((p) => p.name === i.name && p.tag === i.tag);
  return out.sort((a, b) => at(a) - at(b));
}

/** Pushes one image (an index of 2 children when asked) under its tag; same name and tag => same digests on every host. */
export async function promoteOne(reg: TestRegistry, p: { name: string; tag: string; index: boolean }): Promise<BenchImage> {
  const repository = `${PROJECT_PATH}/${p.name}`;
  const seed = `peers:${p.name}:${p.tag}`;
  const children: Pushed[] = [];
  if (p.index) for (const arch of ["amd64", "arm64"]) children.push(await pushImage(reg, repository, { seed: `${seed}:${arch}` }));
  const image = p.index ? await pushIndex(reg, repository, children, { tag: p.tag }) : await pushImage(reg, repository, { seed, tag: p.tag });
  return { name: p.name, repository, tag: p.tag, image, children, how: "unsigned" };
}

const subjectsOf = (i: BenchImage): Pushed[] => [i.image, ...i.children];

/**
 * Signs the primary's images. Real cosign (0.3-0.8 s a call) signs a sample of COSIGN_SAMPLE
 * images from distinct repositories (distribution 2.8 answers 500 to concurrent uploads of one
 * blob in one repository); the rest get the harness's cosign-shaped writers: a legacy .sig per
 * subject, a bundle referrer on every 2nd image, a legacy .att on every 6th; every 20th stays unsigned.
 */
export async function signPrimary(primary: TestRegistry, images: readonly BenchImage[], dir: string): Promise<CosignKeyPair> {
  const keys = await cosignKeyPair(dir);
  const predicate = join(dir, "predicate.json");
  // kpromo's own predicate type: cosign parses its short names (slsaprovenance) as typed protos, a URI as free JSON.
  writeFileSync(predicate, JSON.stringify({ builder: "bench/peers.ts" }));
  const seen = new Set<string>();
  const sample = images.filter((i) => !seen.has(i.name) && seen.add(i.name)).slice(0, COSIGN_SAMPLE);
  await inBatches(sample.map((img, k) => ({ img, mode: COSIGN_MODES[k % COSIGN_MODES.length] ?? "legacy .sig" })), 4, async ({ img, mode }) => {
    const ref = `${primary.host}/${img.repository}@${img.image.digest}`;
    const bundle = mode.startsWith("bundle");
    await cosignSign(ref, { key: keys.key, bundle, recursive: img.children.length > 0 });
    if (mode.includes("att")) await cosignAttest(ref, { key: keys.key, bundle, predicateFile: predicate, type: promotionPredicate });
    img.how = `cosign: ${mode}${img.children.length > 0 ? " (index, -r)" : ""}`;
  });
  const rest = images.filter((i) => !sample.includes(i));
  await inBatches(REPOSITORIES, 6, async (name) => {
    for (const img of rest.filter((i) => i.name === name)) {
      const n = images.indexOf(img);
      if (n % 20 !== 19) await writerSign(primary, img, n);
    }
  });
  return keys;
}

/** The harness's cosign-shaped writers for image number n: a legacy .sig per subject, a bundle referrer when n is even, a legacy .att when n % 6 == 0. */
export async function writerSign(primary: TestRegistry, img: BenchImage, n: number): Promise<void> {
  const parts = ["writer: legacy .sig"];
  for (const s of subjectsOf(img)) await pushSignature(primary, img.repository, s.digest, { seed: `sig:${s.digest}` });
  if (n % 2 === 0) {
    await pushReferrer(primary, img.repository, img.image, { seed: `ref:${img.image.digest}` });
    parts.push("bundle referrer");
  }
  if (n % 6 === 0) {
    await pushAttestation(primary, img.repository, img.image.digest, { seed: `att:${img.image.digest}` });
    parts.push("legacy .att");
  }
  img.how = parts.join(" + ");
}

export interface Mirror {
  readonly reg: TestRegistry;
  readonly kind: "distribution" | "olareg";
}

/** A fresh mirror set, the images promoted on each (what every tool starts from). */
export async function startMirrors(plan: readonly { name: string; tag: string; index: boolean }[]): Promise<Mirror[]> {
  const mirrors: Mirror[] = [
    { reg: await startRegistry(), kind: "distribution" },
    { reg: await startRegistry(), kind: "distribution" },
    { reg: await startOlareg(), kind: "olareg" },
  ];
  await Promise.all(mirrors.map((m) => promote(m.reg, plan)));
  return mirrors;
}

/** What a complete mirror holds: the primary's signature-family tags at their digests and its referrers. */
export interface Expected {
  /** repository -> tag -> digest */
  readonly tags: Map<string, Map<string, string>>;
  readonly referrers: { repository: string; subject: string; digest: string }[];
}

const familyTag = /^sha256-[0-9a-f]{64}\.(sig|att)$/;
const fallbackTag = /^sha256-[0-9a-f]{64}$/;

function manifestDigests(bytes: Uint8Array): string[] {
  const body = JSON.parse(new TextDecoder().decode(bytes)) as { manifests?: { digest?: unknown }[] };
  return (body.manifests ?? []).map((e) => e.digest).filter((d): d is string => typeof d === "string");
}

/** Read from the primary: its .sig/.att tags, and its referrers from the fallback indexes (distribution 2.8 has no API). */
export async function expectedFrom(primary: TestRegistry): Promise<Expected> {
  const tags = new Map<string, Map<string, string>>();
  const referrers: Expected["referrers"] = [];
  await inBatches(REPOSITORIES, 6, async (name) => {
    const repository = `${PROJECT_PATH}/${name}`;
    const byTag = new Map<string, string>();
    for (const t of await listTags(primary, repository)) {
      const m = await readManifest(primary, repository, t);
      if (m === undefined) continue;
      if (familyTag.test(t)) byTag.set(t, m.digest);
      if (fallbackTag.test(t)) for (const d of manifestDigests(m.bytes)) referrers.push({ repository, subject: t.replace("-", ":"), digest: d });
    }
    tags.set(repository, byTag);
  });
  return { tags, referrers };
}

/** Every tag at its digest and every referrer, in a stable order: equal strings, equal primaries. */
export function fingerprint(e: Expected): string {
  return JSON.stringify([[...e.tags].map(([r, m]) => [r, [...m].sort()]).sort(), e.referrers.map((r) => r.digest).sort()]);
}

export interface Missing {
  sigs: number;
  atts: number;
  /** Tags there at another digest. */
  differ: number;
  /** Referrer manifests absent. */
  referrers: number;
  /** Present but not listed (referrers API on olareg, fallback index on distribution). */
  unlisted: number;
  /** A few of the misses by name, for the report. */
  examples: string[];
}

export const missingTotal = (m: Missing): number => m.sigs + m.atts + m.differ + m.referrers + m.unlisted;

/** The referrers a mirror lists for a subject: its API on olareg, the fallback index on distribution. */
export async function listed(m: Mirror, repository: string, subject: string): Promise<string[]> {
  if (m.kind === "olareg") {
    const res = await expectStatus(m.reg, `/v2/${repository}/referrers/${subject}`, { headers: { Accept: "application/vnd.oci.image.index.v1+json" } }, [200, 404]);
    const bytes = new Uint8Array(await res.arrayBuffer());
    return res.status === 200 ? manifestDigests(bytes) : [];
  }
  const index = await readManifest(m.reg, repository, subject.replace(":", "-"));
  return index === undefined ? [] : manifestDigests(index.bytes);
}

export async function checkMirror(m: Mirror, e: Expected): Promise<Missing> {
  const out: Missing = { sigs: 0, atts: 0, differ: 0, referrers: 0, unlisted: 0, examples: [] };
  const note = (s: string): void => void (out.examples.length < 3 && out.examples.push(s));
  await inBatches([...e.tags], 6, async ([repository, byTag]) => {
    for (const [tag, digest] of byTag) {
      const got = await readManifest(m.reg, repository, tag);
      if (got === undefined) out[tag.endsWith(".sig") ? "sigs" : "atts"]++;
      else if (got.digest !== digest) {
        out.differ++;
        note(`${repository}:${tag.slice(0, 15)}…${tag.slice(-4)} at ${got.mediaType.split(".").pop() ?? "?"} ${got.digest.slice(0, 15)}… (primary ${digest.slice(0, 15)}…)`);
      }
    }
    for (const r of e.referrers.filter((q) => q.repository === repository)) {
      if ((await readManifest(m.reg, repository, r.digest)) === undefined) out.referrers++;
      else if (!(await listed(m, repository, r.subject)).includes(r.digest)) {
        out.unlisted++;
        note(`referrer ${r.digest.slice(0, 15)}… of ${repository}@${r.subject.slice(0, 15)}… not listed`);
      }
    }
  });
  return out;
}

/** cosign verify (and verify-attestation) of the cosign-signed sample on one mirror: how many of how many passed. */
export async function verifySample(m: Mirror, images: readonly BenchImage[], keys: CosignKeyPair): Promise<{ ok: number; of: number; failed: string[] }> {
  const failed: string[] = [];
  let of = 0;
  for (const img of images.filter((i) => i.how.startsWith("cosign"))) {
    const ref = `${m.reg.host}/${img.repository}@${img.image.digest}`;
    const checks = [cosignVerify(ref, { key: keys.pub })];
    if (img.how.includes("att")) checks.push(cosignVerifyAttestation(ref, { key: keys.pub, type: promotionPredicate }));
    for (const [k, r] of (await Promise.all(checks)).entries()) {
      of++;
      if (!r.ok) failed.push(`${img.name}:${img.tag} ${k === 0 ? "verify" : "verify-attestation"} (${img.how})`);
    }
  }
  return { ok: of - failed.length, of, failed };
}

export const scratchDir = (): string => mkdtempSync(join(tmpdir(), "sigmirror-peers-"));
