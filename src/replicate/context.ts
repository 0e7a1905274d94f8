// What one run shares between its repositories: options, the ports, the tally, the outcome of each
// pair (checked, failed, not reached), the ledger's write cadence and the first fatal error.
import type { Suffix } from "../cosign/tags.ts";
import type { Ledger, SubjectState } from "../ledger/ledger.ts";
import { HostGivenUp, HostQueues, Stopped } from "./host-queue.ts";
import type { RegistryPort } from "./port.ts";
import { currentPriority } from "./priority.ts";
import { selectionText, type ReferrerSelection } from "./referrer-selection.ts";
import { TagResolver } from "./repo-tags.ts";
import { pairDueAt, subjectDueAt, type ScheduleOptions } from "./schedule.ts";
import { Tally } from "./tally.ts";
import type { Work } from "./work.ts";

export interface EngineOptions {
  readonly verb: "replicate" | "verify";
  readonly suffixes: readonly Suffix[];
  /** Which OCI 1.1 referrers are carried (default: Sigstore bundles and attestations). */
  readonly referrers: ReferrerSelection;
  readonly schedule: ScheduleOptions;
  /** Reads only: no registry write, no ledger write. */
  readonly dryRun: boolean;
  readonly forceOverwrite: boolean;
  readonly maxOverwrites: number;
  /** verify: also look for signatures that a mirror has and the primary lacks. */
  readonly checkUnsigned: boolean;
  /** A signal came: start nothing new. */
  readonly stopping: () => boolean;
  /** In-flight requests were aborted (the wind-down ran out): what they were for is not reached. */
  readonly aborted?: () => boolean;
  /** On `now`'s clock: nothing new starts from then on (`--max-duration`). */
  readonly deadline?: number;
  /** The run's one clock, epoch milliseconds: schedule, deadline and flush cadence all read it. */
  readonly now: () => number;
  readonly random: () => number;
  readonly hostConcurrency: (host: string) => number;
  readonly giveUpAfter: number;
  readonly repositoryConcurrency: number;
  /** Queued ledger writes committed at this count, or after `flushIntervalMs` (default 5 s). */
  readonly flushEvery: number;
  readonly flushIntervalMs?: number;
  readonly isHostFailure: (err: unknown) => boolean;
  readonly onEvent?: (e: EngineEvent) => void;
  /** Called as each repository ends, with how many have (the CLI collects garbage now and then). */
  readonly afterRepository?: (done: number) => void;
}

export type EngineEvent =
  | { kind: "copied" | "would-copy"; host: string; repository: string; tag: string; digest: string }
  | { kind: "replaced" | "would-replace"; host: string; repository: string; tag: string; digest: string; from: string }
  | { kind: "conflict" | "failed" | "drift"; host: string; repository: string; tag: string; digest?: string; reason: string }
  | { kind: "given-up"; host: string; reason: string }
  | { kind: "referrer-copied" | "would-copy-referrer"; host: string; repository: string; digest: string; of: string; artifactType: string }
  | { kind: "index-updated" | "would-update-index"; host: string; repository: string; tag: string; added: number; kept: number }
  | { kind: "foreign-referrer" | "index-entry-gone"; host: string; repository: string; digest: string; of: string; reason: string };

export type StopReason = "signal" | "deadline" | "error";

export interface Where {
  readonly host: string;
  readonly repository: string;
  readonly tag: string;
}

const sec = (ms: number): number => Math.floor(ms / 1000);
/** An error as one line: the first of its message. */
export const errorLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "error";

export class RunContext {
  readonly queues: HostQueues;
  readonly tags: TagResolver;
  readonly tally = new Tally();
  overwrites = 0;
  /** Ledger subject id -> its mirrors now, for pruning the ledger after a complete run. */
  readonly live = new Map<number, readonly string[]>();
  /** Per host: whether it answers the referrers API ("api") or needs the fallback tag ("tag"), once learned. */
  readonly referrersVia = new Map<string, "api" | "tag">();
  /** Per host: the first referrers request, which the others wait for until its answer says which. */
  readonly referrersProbe = new Map<string, Promise<void>>();
  private readonly announcedGivenUp = new Set<string>();
  private lastFlush: number;
  private firstFatal: Error | undefined;
  private stopSeen: StopReason | undefined;

  constructor(
    readonly port: RegistryPort,
    readonly ledger: Ledger,
    readonly o: EngineOptions,
  ) {
    this.queues = new HostQueues({
      limit: o.hostConcurrency,
      stopping: () => this.stopping(),
      ...(o.aborted === undefined ? {} : { aborted: o.aborted }),
      giveUpAfter: o.giveUpAfter,
      isHostFailure: o.isHostFailure,
      priorityOf: currentPriority,
    });
    this.tags = new TagResolver(port, this.queues);
    this.lastFlush = o.now();
  }

  get writes(): boolean {
    return this.o.verb === "replicate" && !this.o.dryRun;
  }

  nowSec(): number {
    return sec(this.o.now());
  }

  /** Why nothing new may start, if so; remembered, so the run knows it was cut. */
  stopReason(): StopReason | undefined {
    const why: StopReason | undefined =
      this.firstFatal !== undefined ? "error" : this.o.stopping() ? "signal" : this.o.deadline !== undefined && this.o.now() >= this.o.deadline ? "deadline" : undefined;
    if (why !== undefined && this.stopSeen === undefined) this.stopSeen = why;
    return why;
  }

  stopping(): boolean {
    return this.stopReason() !== undefined;
  }

  /** The first reason the run was stopped, if it was. */
  get stoppedBy(): StopReason | undefined {
    return this.stopSeen;
  }

  get fatal(): Error | undefined {
    return this.firstFatal;
  }

  /** The first fatal error wins; the run stops starting work. */
  setFatal(err: unknown): void {
    if (this.firstFatal === undefined) this.firstFatal = err instanceof Error ? err : new Error(String(err));
    this.stopReason();
  }

  /** Commits queued ledger writes by count or by time: a kill -9 loses seconds of work, whatever the repository sizes. */
  maybeFlush(): void {
    const pending = this.ledger.pendingWrites;
    if (pending === 0 || this.firstFatal !== undefined) return;
    if (pending >= this.o.flushEvery || this.o.now() - this.lastFlush >= (this.o.flushIntervalMs ?? 5000)) this.flushNow();
  }

  flushNow(): void {
    if (this.firstFatal !== undefined) return;
    try {
      this.ledger.flush();
    } catch (err) {
      this.setFatal(err);
    }
    this.lastFlush = this.o.now();
  }


  /** Records what the primary holds for a subject. */
  settle(w: Work, state: SubjectState, tags: ReadonlyMap<Suffix, string>, checkedAt: number): void {
    const k = w.known;
    const firstSeen = k?.firstSeen ?? checkedAt;
    const changed = k === undefined || k.state !== "signed" || [...tags].some(([s, d]) => k.tags.get(s) !== d);
    const signedAt = state === "signed" ? (changed ? checkedAt : (k?.signedAt ?? checkedAt)) : undefined;
    w.state = state;
    w.tags = tags;
    this.tally.host(w.key.primary, "primary").checked++;
    if (!this.writes) return;
    const families = new Set<Suffix>(this.o.suffixes);
    for (const s of k?.families ?? []) if (tags.has(s) || !this.o.suffixes.includes(s)) families.add(s);
    this.ledger.putSubject(w.key, {
      state,
      firstSeen,
      signedAt,
      checkedAt,
      dueAt: subjectDueAt(state, firstSeen, signedAt, checkedAt, this.o.schedule, this.o.random()),
      tags,
      families,
      ...(w.referrersRead ? { referrers: w.referrers.map((r) => ({ digest: r.digest, of: r.of, artifactType: r.artifactType })), referrersLooked: selectionText(this.o.referrers) } : {}),
    });
    this.maybeFlush();
  }

  /** Only after `mirror` was seen, or made, to serve the referrer by digest and list it. */
  verifiedReferrer(w: Work, mirror: string, digest: string): void {
    const t = this.verifiedTimes(w);
    if (t === undefined) return;
    this.ledger.putReferrerPair(w.key, mirror, digest, t.at, t.due);
    this.maybeFlush();
  }

  /** Only after `mirror` was seen, or made, to hold `digest` under the subject's tag. */
  verified(w: Work, mirror: string, suffix: Suffix, digest: string): void {
    const t = this.verifiedTimes(w);
    if (t === undefined) return;
    this.ledger.putPair(w.key, mirror, suffix, digest, t.at, t.due);
    this.maybeFlush();
  }

  /** When a pair verified now was verified and falls due; undefined when nothing is to be written. */
  private verifiedTimes(w: Work): { at: number; due: number } | undefined {
    if (!this.writes) return undefined;
    if (w.known === undefined && w.state === undefined) return undefined;
    // To the minute: finer says nothing more, and a stored ledger compresses far better.
    const at = Math.floor(this.nowSec() / 60) * 60;
    w.jitter ??= this.o.random();
    return { at, due: pairDueAt(at, this.o.schedule, w.jitter) };
  }

  /** A lookup or copy that did not succeed: failed, or not reached when the run stopped first. */
  fail(where: Where, digest: string | undefined, err: unknown, role: "primary" | "mirror" = "mirror"): void {
    const at = digest === undefined || digest === "" ? where : { ...where, digest };
    if (err instanceof Stopped) {
      this.stopReason();
      this.tally.notReachedAt({ ...at, reason: err.message }, role);
      return;
    }
    if (err instanceof HostGivenUp) {
      this.tally.failure({ ...at, reason: err.message }, role);
      if (!this.announcedGivenUp.has(err.host)) {
        this.announcedGivenUp.add(err.host);
        this.o.onEvent?.({ kind: "given-up", host: err.host, reason: err.why });
      }
      return;
    }
    const reason = errorLine(err);
    this.tally.failure({ ...at, reason }, role);
    this.o.onEvent?.({ kind: "failed", ...at, reason });
  }

  conflict(where: Where, digest: string, reason: string): void {
    this.tally.conflict({ ...where, digest, reason });
    this.o.onEvent?.({ kind: "conflict", ...where, digest, reason });
  }

  drift(where: Where, digest: string, reason: string): void {
    this.tally.driftFound({ ...where, digest, reason });
    this.o.onEvent?.({ kind: "drift", ...where, digest, reason });
  }

  event(e: EngineEvent): void {
    this.o.onEvent?.(e);
  }
}
