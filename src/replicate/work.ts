// A subject as one run knows it: what the ledger said, then what the primary said.
import type { Suffix } from "../cosign/tags.ts";
import type { LedgerReferrer, Subject, SubjectKey, SubjectState } from "../ledger/ledger.ts";
import type { Referrer } from "./port.ts";

/** One (primary, repository, digest) that every mirror must hold the signatures of. */
export interface ReplicaGroup {
  readonly repository: string;
  readonly digest: string;
  readonly primary: string;
  /** Sorted, distinct (as the plan gives them). */
  readonly mirrors: readonly string[];
}

export interface Work {
  readonly key: SubjectKey;
  /** Sorted, distinct. The group's own array until an index's children merge more in. */
  mirrors: readonly string[];
  readonly known: Subject | undefined;
  /** Set once the primary was read this run, or taken from the ledger when not due. */
  state: SubjectState | undefined;
  /** Replaced, never changed in place: it may be the ledger's own map. */
  tags: ReadonlyMap<Suffix, string>;
  /** The primary's selected referrers (the ledger's until the primary is read this run). */
  referrers: readonly WorkReferrer[];
  /** Whether `referrers` were read from the primary this run (else the ledger's, not re-read). */
  referrersRead: boolean;
  /** The primary could not be read for it (failed, or not reached): its mirrors are not asked. */
  readFailed: boolean;
  /** The subject's due-time jitter this run, drawn once: its pairs verified together fall due together (and fold, settle.ts). */
  jitter: number | undefined;
}

/** A referrer as the run knows it: the ledger's, and its full descriptor when the primary listed it this run. */
export interface WorkReferrer extends LedgerReferrer {
  readonly descriptor?: Referrer;
}

export const noTags: ReadonlyMap<Suffix, string> = new Map();

/** `a` with `b` merged in, sorted; `a` itself when `b` adds nothing (the common case). */
export function mergeSorted(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.every((m) => a.includes(m))) return a;
  return [...new Set([...a, ...b])].sort();
}

/** Groups by (primary, repository), in plan order: one repository is one unit of work. */
export function byRepository(groups: readonly ReplicaGroup[]): ReplicaGroup[][] {
  // Keyed by the group's own strings (no key string made per group: 92,000 at 2x the k8s shape).
  const byPrimary = new Map<string, Map<string, ReplicaGroup[]>>();
  const out: ReplicaGroup[][] = [];
  for (const g of groups) {
    let byRepo = byPrimary.get(g.primary);
    if (byRepo === undefined) byPrimary.set(g.primary, (byRepo = new Map()));
    let list = byRepo.get(g.repository);
    if (list === undefined) {
      byRepo.set(g.repository, (list = []));
      out.push(list);
    }
    list.push(g);
  }
  return out;
}
