// Which OCI 1.1 referrers a run carries to the mirrors, by artifact type. Pure.

/** cosign v3's Sigstore bundles, in-toto attestations, and cosign's older OCI 1.1-mode types. */
export const DEFAULT_REFERRER_TYPES: readonly string[] = [
  "application/vnd.dev.sigstore.bundle.v0.3+json",
  "application/vnd.dev.sigstore.bundle+json;version=0.1",
  "application/vnd.dev.sigstore.bundle+json;version=0.2",
  "application/vnd.dev.sigstore.bundle+json;version=0.3",
  "application/vnd.in-toto+json",
  "application/vnd.dev.cosign.artifact.sig.v1+json",
  "application/vnd.dev.cosign.artifact.att.v1+json",
];

/** "all", "none", or the artifact types (sorted, distinct). */
export type ReferrerSelection = { readonly kind: "all" } | { readonly kind: "none" } | { readonly kind: "types"; readonly types: readonly string[] };

export const defaultSelection: ReferrerSelection = { kind: "types", types: [...DEFAULT_REFERRER_TYPES].sort() };

/** A media type as RFC 6838 allows it, parameters included (`...+json;version=0.3`). */
const mediaType = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(;\s*[a-z0-9!#$&^_.+-]+=[a-z0-9!#$&^_.+-]+)*$/i;

/** `--referrers`: "default", "all", "none", or a comma-separated list of artifact types; undefined when malformed. */
export function parseSelection(text: string): ReferrerSelection | undefined {
  const t = text.trim();
  if (t === "default") return defaultSelection;
  if (t === "all") return { kind: "all" };
  if (t === "none") return { kind: "none" };
  const types = t.split(",").map((x) => x.trim());
  if (types.length === 0 || types.some((x) => !mediaType.test(x))) return undefined;
  return { kind: "types", types: [...new Set(types)].sort() };
}

/** As the ledger stores it: "all", "none", or the sorted types joined by ",". */
export function selectionText(s: ReferrerSelection): string {
  return s.kind === "types" ? s.types.join(",") : s.kind;
}

export function selects(s: ReferrerSelection, artifactType: string): boolean {
  if (s.kind === "all") return true;
  if (s.kind === "none") return false;
  return s.types.includes(artifactType);
}

/** Whether a run that looked for `looked` saw every referrer `wanted` would see (widening re-reads at once). */
export function covers(looked: string, wanted: ReferrerSelection): boolean {
  if (wanted.kind === "none" || looked === "all") return true;
  if (wanted.kind === "all") return false;
  if (looked === "none") return false;
  // Asked once per subject (92,000 times at 2x the k8s shape) with a handful of distinct texts.
  let known = coversCache.get(wanted);
  if (known === undefined) coversCache.set(wanted, (known = new Map()));
  let answer = known.get(looked);
  if (answer === undefined) {
    const have = new Set(looked.split(","));
    known.set(looked, (answer = wanted.types.every((t) => have.has(t))));
  }
  return answer;
}
const coversCache = new WeakMap<ReferrerSelection, Map<string, boolean>>();
