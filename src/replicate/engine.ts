// The run: repositories taken by a small pool of workers, nothing new started once the run is
// stopping (a signal, the deadline, a fatal error), every worker waited for before the run ends,
// and the end-of-run accounting: hosts that never answered, hosts given up, what was left.
import type { Ledger } from "../ledger/ledger.ts";
import { RunContext, type EngineOptions, type StopReason } from "./context.ts";
import type { RegistryPort } from "./port.ts";
import { replicateRepository } from "./repository.ts";
import type { Tally } from "./tally.ts";
import { byRepository, type ReplicaGroup } from "./work.ts";

export type { EngineEvent, EngineOptions, StopReason } from "./context.ts";
export type { ReplicaGroup } from "./work.ts";

/** How often the ledger's time-based flush is looked at while every worker waits on the network. */
const flushTickMs = 1000;

export class Engine {
  private readonly ctx: RunContext;
  private repositories = 0;
  private started = 0;

  constructor(port: RegistryPort, ledger: Ledger, o: EngineOptions) {
    this.ctx = new RunContext(port, ledger, o);
  }

  get tally(): Tally {
    return this.ctx.tally;
  }

  /** Ledger subject id -> its mirrors now, for pruning after a complete run. */
  get live(): RunContext["live"] {
    return this.ctx.live;
  }

  /** True when every repository was gone through and nothing was left unreached (no stop, no deadline, no error). */
  get complete(): boolean {
    return this.ctx.stoppedBy === undefined && this.started === this.repositories && this.ctx.tally.notReached === 0;
  }

  get stoppedBy(): StopReason | undefined {
    return this.ctx.stoppedBy;
  }

  /** Repositories of this run, and how many were never started. */
  get progress(): { readonly repositories: number; readonly left: number } {
    return { repositories: this.repositories, left: this.repositories - this.started };
  }

  /**
   * Resolves when every worker has ended; rejects with the first fatal error (a ledger that cannot
   * be written), after every worker has ended, so nothing runs on while the caller closes up.
   */
  async run(groups: readonly ReplicaGroup[]): Promise<void> {
    const ctx = this.ctx;
    const repos = byRepository(groups);
    this.repositories = repos.length;
    this.declare(repos);
    const ticker = setInterval(() => ctx.maybeFlush(), flushTickMs);
    ticker.unref?.();
    const worker = async () => {
      while (this.started < repos.length && !ctx.stopping()) {
        const seq = this.started++;
        const batch = repos[seq] ?? [];
        try {
          await replicateRepository(ctx, batch, seq);
        } catch (err) {
          ctx.setFatal(err);
          return;
        }
        ctx.maybeFlush();
        ctx.o.afterRepository?.(seq + 1);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, ctx.o.repositoryConcurrency) }, worker));
    } finally {
      clearInterval(ticker);
    }
    ctx.flushNow();
    this.account();
    if (ctx.fatal !== undefined) throw ctx.fatal;
  }

  /** A host asked and never answered failed (it did not run out of time); given-up hosts say why. */
  private account(): void {
    const { tally, queues } = this.ctx;
    for (const host of tally.hostsNotReached()) {
      if (queues.asked(host) && !queues.answered(host)) {
        tally.neverAnswered(host, `${host} never answered: no response to any request before the run ended`);
      }
    }
    for (const host of tally.hosts()) {
      const why = queues.givenUp(host);
      if (why !== undefined) tally.host(host).givenUp = why;
    }
  }

  /** Token requests count against quota: let the client ask for several repositories per token. */
  private declare(repos: readonly (readonly ReplicaGroup[])[]): void {
    const port = this.ctx.port;
    if (port.declareRepositories === undefined) return;
    const reads = new Map<string, Set<string>>();
    const writes = new Map<string, Set<string>>();
    const add = (m: Map<string, Set<string>>, host: string, repository: string) => {
      let set = m.get(host);
      if (set === undefined) m.set(host, (set = new Set()));
      set.add(repository);
    };
    for (const groups of repos) {
      // One mirrors array per host set in the plan: each looked at once per repository, not per group.
      const seen = new Set<readonly string[]>();
      for (const g of groups) {
        add(reads, g.primary, g.repository);
        if (seen.has(g.mirrors)) continue;
        seen.add(g.mirrors);
        for (const m of g.mirrors) add(this.ctx.writes ? writes : reads, m, g.repository);
      }
    }
    for (const [host, repos] of reads) port.declareRepositories(host, [...repos], "pull");
    for (const [host, repos] of writes) port.declareRepositories(host, [...repos], "push");
  }
}
