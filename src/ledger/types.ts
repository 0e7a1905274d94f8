// What the ledger holds, as the engine sees it: subjects (a primary's state of one digest) and pairs
// (what a mirror was seen to hold).
import type { Suffix, SubjectState } from "./codes.ts";

/** What a run learns of the primary's state of one (primary host, repository, digest). Times in epoch seconds. */
export interface SubjectUpdate {
  readonly state: SubjectState;
  readonly firstSeen: number;
  readonly signedAt: number | undefined;
  readonly checkedAt: number;
  readonly dueAt: number;
  /** Family tag -> manifest digest on the primary. */
  readonly tags: ReadonlyMap<Suffix, string>;
  /** The suffixes looked for on the primary, this run's and earlier runs' whose tags were kept (default sig). */
  readonly families?: ReadonlySet<Suffix>;
  /** The primary's selected referrers (depth 1 and 2); undefined: as the ledger had them. */
  readonly referrers?: readonly LedgerReferrer[];
  /** The artifact-type selection the referrers were looked for with ("all", or sorted types joined by ","). */
  readonly referrersLooked?: string;
}

/** A referrer of a subject on the primary: its manifest digest, what it refers to, its artifact type. */
export interface LedgerReferrer {
  readonly digest: string;
  /** The subject's digest, or a depth-1 referrer's (a signature of an SBOM). */
  readonly of: string;
  readonly artifactType: string;
}

/** A subject as the ledger holds it. */
export interface Subject extends SubjectUpdate {
  readonly id: number;
  /** The earliest due time of its tag and referrer pairs (0: none). */
  readonly pairsDue: number;
  /**
   * The mirror set (Ledger.mirrorSet()) every host of which holds every tag and referrer of the
   * subject, as the ledger had it at open; 0: not so (or no pair). A warm run compares it and reads no pair.
   */
  readonly settledOn: number;
  readonly families: ReadonlySet<Suffix>;
  readonly referrers: readonly LedgerReferrer[];
  /** undefined: never looked for (a subject from before referrers, or new). */
  readonly referrersLooked: string | undefined;
  /** When a subject never looked at is first looked at (spread after the upgrade); 0: at once. */
  readonly referrersDue: number;
}

export interface ReferrerPair {
  readonly mirror: string;
  readonly digest: string;
  readonly verifiedAt: number;
  readonly dueAt: number;
}

export interface Pair {
  readonly mirror: string;
  readonly suffix: Suffix;
  readonly digest: string;
  readonly verifiedAt: number;
  readonly dueAt: number;
}

export interface SubjectKey {
  readonly primary: string;
  readonly repository: string;
  readonly digest: string;
}

/** A subject's manifest as the ledger stores it on its row: 0 never read, 1 plain, 2 an index. */
export type ManifestCode = 0 | 1 | 2;

export const keyOf = (k: SubjectKey): string => `${k.primary}\n${k.repository}\n${k.digest}`;

/** A queued write, applied by flush(). */
export type Write =
  | { kind: "subject"; key: SubjectKey; update: SubjectUpdate; manifest: ManifestCode }
  | { kind: "children"; digest: string; isIndex: boolean; children: readonly string[] }
  | { kind: "pair"; key: SubjectKey; mirror: string; suffix: Suffix; digest: string; verifiedAt: number; dueAt: number }
  | { kind: "unpair"; key: SubjectKey; mirror: string; suffix: Suffix }
  | { kind: "refpair"; key: SubjectKey; mirror: string; digest: string; verifiedAt: number; dueAt: number };
