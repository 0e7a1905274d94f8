// OCI 1.1 referrers on a distribution 2.8 primary, as cosign v3 writes them for kpromo's
// provenance: a Sigstore bundle manifest with a `subject`, pushed by digest, and the referrers
// fallback tag `sha256-<hex>` holding an OCI index that lists it (distribution 2.8 has no referrers
// API, so that index is the only listing a reader finds). Plus what the benches read back:
// sigmirror's --report referrer counts and which requests served referrers.
import { readFileSync } from "node:fs";
import { readManifest, type AccessEntry, type TestRegistry } from "../test/harness/index.ts";
import { fallbackTagOf as fallbackTag, pushReferrer } from "../test/harness/referrers.ts";

export { bundleType, fallbackTagOf as fallbackTag, promotionPredicate } from "../test/harness/referrers.ts";
const fallbackTagPattern = /^sha256-[0-9a-f]{64}$/;

export interface PushedReferrer {
  readonly digest: string;
  readonly subject: string;
  /** Its blobs: the empty config and the bundle layer. */
  readonly blobs: readonly string[];
}

interface IndexEntry {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
}

function entriesOf(bytes: Uint8Array): IndexEntry[] {
  const body: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof body !== "object" || body === null || !("manifests" in body) || !Array.isArray(body.manifests)) return [];
  return body.manifests.filter((e): e is IndexEntry => typeof e === "object" && e !== null && typeof (e as { digest?: unknown }).digest === "string");
}

/**
 * Attests `subject` on `reg` as cosign v3 does (test/harness/referrers.ts writes it) and lists it in
 * the fallback index, every entry already there kept. Same seed => same digest.
 */
export async function pushAttestationReferrer(reg: TestRegistry, repo: string, subject: string, o: { seed: string; predicateType?: string }): Promise<PushedReferrer> {
  const read = await readManifest(reg, repo, subject);
  if (read === undefined) throw new Error(`bench: ${reg.host}/${repo}@${subject} missing: cannot attest it`);
  const r = await pushReferrer(reg, repo, read, o);
  return { digest: r.digest, subject, blobs: r.blobs };
}

/** Whether `reg` serves the referrer by digest and its fallback index lists it (what a reader needs). */
export async function listedOn(reg: TestRegistry, repo: string, r: PushedReferrer): Promise<boolean> {
  const [index, manifest] = await Promise.all([readManifest(reg, repo, fallbackTag(r.subject)), readManifest(reg, repo, r.digest)]);
  return manifest !== undefined && index !== undefined && entriesOf(index.bytes).some((e) => e.digest === r.digest);
}

/** sigmirror's --report referrer counts: the run's, and per host. */
export interface ReferrerCounts {
  readonly checked: number;
  readonly copied: number;
  readonly there: number;
}

export interface ReportFigures {
  /** Requests per host, as sigmirror counted them. */
  readonly requests: number;
  readonly referrers: ReferrerCounts;
  readonly perHost: ReadonlyMap<string, ReferrerCounts>;
}

interface ReportHost {
  host: string;
  requests: number;
  referrersChecked: number;
  referrersCopied: number;
  referrersThere: number;
}

export function readReport(path: string): ReportFigures {
  const rep = JSON.parse(readFileSync(path, "utf8")) as { hosts: ReportHost[]; referrers: ReferrerCounts };
  return {
    requests: rep.hosts.reduce((n, h) => n + h.requests, 0),
    referrers: rep.referrers,
    perHost: new Map(rep.hosts.map((h) => [h.host, { checked: h.referrersChecked, copied: h.referrersCopied, there: h.referrersThere }])),
  };
}

export const countsText = (c: ReferrerCounts | undefined): string => (c === undefined ? "-" : `${c.checked}/${c.copied}/${c.there}`);

/**
 * Requests that served referrers alone, by kind: the fallback index (by its tag), a referrer
 * manifest (by its digest), a referrer's blobs (the empty config is used by referrers only).
 * Tag listings serve signatures and referrers at once and are left out.
 */
export function referrerKind(e: AccessEntry, referrers: ReadonlySet<string>, blobs: ReadonlySet<string>): string | undefined {
  const path = e.path.split("?")[0] ?? e.path;
  const manifest = /\/manifests\/([^/]+)$/.exec(path)?.[1];
  if (manifest !== undefined) {
    const ref = decodeURIComponent(manifest);
    if (fallbackTagPattern.test(ref)) return `index ${e.method}`;
    if (referrers.has(ref)) return `referrer ${e.method}`;
    return undefined;
  }
  const blob = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path)?.[1];
  if (blob !== undefined && blobs.has(blob)) return `blob ${e.method}`;
  // Uploads of referrer blobs: their digest is in the final PUT's query only.
  const digest = /[?&]digest=([^&]+)/.exec(e.path)?.[1];
  if (path.includes("/blobs/uploads") && digest !== undefined && blobs.has(decodeURIComponent(digest))) return "upload";
  return undefined;
}

export function referrerKindText(entries: readonly AccessEntry[], referrers: ReadonlySet<string>, blobs: ReadonlySet<string>): string {
  const counts = new Map<string, number>();
  for (const e of entries) {
    const k = referrerKind(e, referrers, blobs);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const parts = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}
