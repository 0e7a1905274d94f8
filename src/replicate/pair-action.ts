// What to do with one (mirror, tag) pair, given what the primary holds and what the mirror was
// seen to hold. Pure. A listing may prove absence for planning, never for a write: a tag seen
// absent only in a listing is read on the mirror before anything is written under it.

/** What a lookup saw of a tag on one host, and how it saw it. */
export type Seen =
  | { readonly present: false; readonly via: "listing" | "read" }
  | { readonly present: true; readonly digest: string; readonly via: "listing" | "read" };

export type PairAction =
  /** The mirror holds the primary's digest. */
  | { readonly kind: "verified" }
  /** Seen absent in a listing only: read the tag on the mirror, then decide again. */
  | { readonly kind: "read-first" }
  /** Read absent on the mirror just now: copy (replicate). */
  | { readonly kind: "copy" }
  /** At another digest: read both tags live and let the overwrite rule decide. */
  | { readonly kind: "replace-or-conflict"; readonly theirs: string }
  /** verify: the mirror lacks the tag. */
  | { readonly kind: "missing" }
  /** --check-unsigned: the primary has no such tag, the mirror has one. */
  | { readonly kind: "unsigned-but-signed"; readonly theirs: string }
  | { readonly kind: "nothing" };

/**
 * `want` is the primary's digest for the tag, or undefined when the primary has none (a
 * `--check-unsigned` lookup).
 */
export function pairAction(verb: "replicate" | "verify", want: string | undefined, seen: Seen): PairAction {
  if (want === undefined) return seen.present ? { kind: "unsigned-but-signed", theirs: seen.digest } : { kind: "nothing" };
  if (seen.present) return seen.digest === want ? { kind: "verified" } : { kind: "replace-or-conflict", theirs: seen.digest };
  if (verb === "verify") return { kind: "missing" };
  return seen.via === "read" ? { kind: "copy" } : { kind: "read-first" };
}
