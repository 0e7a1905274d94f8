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
  const byRepo = new Map<string, ReplicaGroup[]>();
  for (const g of groups) {
    const k = `${g.primary}\n${g.repository}`;
    let list = byRepo.get(k);
    if (list === undefined) byRepo.set(k, (list = []));
    list.push(g);
  }
  return [...byRepo.values()];
}
