import type { HostSummary, PairProblem, ReplacedPair } from "../report/types.ts";

/** The engine's share of a host's summary; the transport counters come from the client. */
export type HostTally = Pick<
  HostSummary,
  "host" | "role" | "checked" | "copied" | "replaced" | "alreadyThere" | "failed" | "conflicts" | "notReached" | "givenUp" | "referrersChecked" | "referrersCopied" | "referrersThere"
>;

/** What a run did, counted as it goes. */
export class Tally {
  pairsChecked = 0;
  copied = 0;
  replaced = 0;
  alreadyThere = 0;
  unsigned = 0;
  missingOnPrimary = 0;
  /** Lookups the run stopped before (a signal, the deadline): pairs on mirrors, subjects on the primary. */
  notReached = 0;
  readonly failures: PairProblem[] = [];
  readonly conflicts: PairProblem[] = [];
  readonly drift: PairProblem[] = [];
  readonly replacedList: ReplacedPair[] = [];
  private readonly perHost = new Map<string, HostTally>();
  /** Per host, what was not reached: failures instead if the host never answered. */
  private readonly unreached = new Map<string, PairProblem[]>();

  host(host: string, role?: "primary" | "mirror"): HostTally {
    let t = this.perHost.get(host);
    if (t === undefined) {
      t = { host, role: role ?? "mirror", checked: 0, copied: 0, replaced: 0, alreadyThere: 0, failed: 0, conflicts: 0, notReached: 0, referrersChecked: 0, referrersCopied: 0, referrersThere: 0 };
      this.perHost.set(host, t);
    } else if (role === "primary") {
      t.role = "primary";
    }
    return t;
  }

  /** Referrer pairs over every host. */
  get referrers(): { checked: number; copied: number; there: number } {
    let checked = 0;
    let copied = 0;
    let there = 0;
    for (const t of this.perHost.values()) {
      checked += t.referrersChecked;
      copied += t.referrersCopied;
      there += t.referrersThere;
    }
    return { checked, copied, there };
  }

  hosts(): string[] {
    return [...this.perHost.keys()].sort();
  }

  all(): HostTally[] {
    return this.hosts().map((h) => this.host(h));
  }

  failure(p: PairProblem, role: "primary" | "mirror"): void {
    this.failures.push(p);
    this.host(p.host, role === "primary" ? "primary" : undefined).failed++;
  }

  conflict(p: PairProblem): void {
    this.conflicts.push(p);
    this.host(p.host).conflicts++;
  }

  driftFound(p: PairProblem): void {
    this.drift.push(p);
  }

  notReachedAt(p: PairProblem, role: "primary" | "mirror"): void {
    this.notReached++;
    this.host(p.host, role === "primary" ? "primary" : undefined).notReached++;
    let list = this.unreached.get(p.host);
    if (list === undefined) this.unreached.set(p.host, (list = []));
    list.push(p);
  }

  /**
   * A host that was asked and never answered did not run out of time: it failed. Its pairs not
   * reached are counted as failures, with `reason`.
   */
  neverAnswered(host: string, reason: string): void {
    const list = this.unreached.get(host) ?? [];
    this.unreached.delete(host);
    const t = this.host(host);
    this.notReached -= list.length;
    t.notReached -= list.length;
    for (const p of list) {
      this.failures.push({ ...p, reason });
      t.failed++;
    }
  }

  hostsNotReached(): string[] {
    return [...this.unreached.keys()].sort();
  }
}
