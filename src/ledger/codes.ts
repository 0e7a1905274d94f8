// How the ledger writes names and codes: families and states by position, hosts and repositories
// interned to integers, digests as 32 bytes. The storage format, nothing more.
import type { SqlValue } from "./sqlite.ts";

/**
 * The artefact families a subject's tags belong to, as the ledger stores them: a family's position
 * here is its code on disk, so the list only ever grows at its end. What a family means on a
 * registry (cosign's `sha256-<hex>.sig` tags) is src/cosign/'s business, not the ledger's.
 */
export const FAMILIES = ["sig", "att", "sbom"] as const;
export type Suffix = (typeof FAMILIES)[number];
const SUFFIXES = FAMILIES;
export const suffixCode = (s: Suffix): number => SUFFIXES.indexOf(s);
export const suffixOf = (code: number): Suffix => SUFFIXES[code] ?? "sig";
export const familiesMask = (f: ReadonlySet<Suffix>): number => [...f].reduce((m, s) => m | (1 << suffixCode(s)), 0);
/** Shared sets: nearly every subject has the same families. */
const familySets = new Map<number, ReadonlySet<Suffix>>();
export function familiesOf(mask: number): ReadonlySet<Suffix> {
  let set = familySets.get(mask);
  if (set === undefined) familySets.set(mask, (set = new Set(SUFFIXES.filter((_, i) => (mask & (1 << i)) !== 0))));
  return set;
}

/** missing: not on the primary (not promoted yet); unsigned: there, no family tag; signed: has some. */
export type SubjectState = "missing" | "unsigned" | "signed";
export const STATES: readonly SubjectState[] = ["missing", "unsigned", "signed"];

/** Interned names: the ledger stores integers, the engine speaks strings. */
export class Names {
  readonly byId = new Map<number, string>();
  /** Built on first use: a warm run writes nothing and never needs it (92,000 digests at k8s scale). */
  private names: Map<string, number> | undefined;
  get byName(): ReadonlyMap<string, number> {
    if (this.names === undefined) this.names = new Map([...this.byId].map(([id, name]) => [name, id]));
    return this.names;
  }
  add(id: number, name: string): void {
    this.byId.set(id, name);
    this.names?.set(name, id);
  }
}

/** SQL for a stored digest's text (a column or expression): sha256 from its 32 bytes, anything else stored as its text. */
export const digestText = (column: string): string =>
  `CASE WHEN length(${column}) = 32 THEN 'sha256:' || lower(hex(${column})) ELSE CAST(${column} AS TEXT) END`;

/** A pair's due time as stored: whole minutes after its verification, never negative. */
export const dueInMinutes = (verifiedAt: number, dueAt: number): number => Math.max(0, Math.floor((dueAt - verifiedAt) / 60));

/** Shared by every plain manifest's entry. */
export const noChildren: readonly string[] = [];

export const num = (v: SqlValue | undefined): number => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : 0);
