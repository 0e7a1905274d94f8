// The end-of-run report: filled by the engine, written as JSON (--report), JUnit (--junit) and the summary.

/** One pair that failed or conflicts: enough to find it on the registry. */
export interface PairProblem {
  host: string;
  repository: string;
  tag: string;
  digest?: string;
  reason: string;
}

export interface HostSummary {
  host: string;
  role: "primary" | "mirror";
  requests: number;
  byMethod: Record<string, number>;
  byStatus: Record<string, number>;
  retries: number;
  status429: number;
  pausedMs: number;
  bytes: number;
  tokenRequests: number;
  checked: number;
  copied: number;
  replaced: number;
  alreadyThere: number;
  failed: number;
  conflicts: number;
  /** Lookups the run stopped before: the deadline or a signal came first (the host answered others). */
  notReached: number;
  /** OCI 1.1 referrers (Sigstore bundles, attestations): pairs checked, copied, already there. */
  referrersChecked: number;
  referrersCopied: number;
  referrersThere: number;
  /** Why the host was given up for the rest of the run, when it was. */
  givenUp?: string;
}

export interface ReplacedPair {
  host: string;
  repository: string;
  tag: string;
  /** Digest the mirror held before. */
  from: string;
  /** Digest it holds now (the primary's). */
  to: string;
}

export interface RunReport {
  /** `sigmirror/<version>` */
  tool: string;
  verb: "replicate" | "verify";
  /** ISO 8601 */
  startedAt: string;
  finishedAt: string;
  wallMs: number;
  dryRun: boolean;
  groups: number;
  withoutPrimary: number;
  unsigned: number;
  pairsChecked: number;
  copied: number;
  replaced: number;
  alreadyThere: number;
  conflicts: number;
  failed: number;
  /** Pairs (and primary reads) the run stopped before; see `stoppedBy`. */
  notReached: number;
  /** (referrer, mirror) pairs: checked, copied, already there. */
  referrers: { checked: number; copied: number; there: number };
  /** What stopped the run before it went through every repository. */
  stoppedBy?: "deadline" | "SIGINT" | "SIGTERM" | "error";
  /** Repositories not started when the run stopped, of `repositories`. */
  repositoriesLeft: number;
  repositories: number;
  interrupted?: "SIGINT" | "SIGTERM";
  /** The error that ended the run early (a ledger that could not be written, say): the first one. */
  fatal?: string;
  hosts: HostSummary[];
  failures: PairProblem[];
  conflictList: PairProblem[];
  replacedList: ReplacedPair[];
  exitCode: number;
}
