import { familyTag, Ledger, type Subject, type SubjectKey, type SubjectState, type Suffix } from "../ledger/ledger.ts";
import { expectedPairsKey, listKey } from "../ledger/pairs-key.ts";
import { HostGivenUp, HostQueues, Stopped } from "./host-queue.ts";
import { holdsEveryLayer, indexChildren } from "./oci.ts";
import type { RegistryPort } from "./port.ts";
import { TagResolver, type TagLookup, type TagState } from "./repo-tags.ts";
import { isDue, pairDueAt, subjectDueAt, type ScheduleOptions } from "./schedule.ts";
import { Tally } from "./tally.ts";

/** One (primary, repository, digest) that every mirror must hold the signatures of. */
export interface ReplicaGroup {
  readonly repository: string;
  readonly digest: string;
  readonly primary: string;
  /** Sorted, distinct (as the plan gives them). */
  readonly mirrors: readonly string[];
}

export interface EngineOptions {
  readonly verb: "replicate" | "verify";
  readonly suffixes: readonly Suffix[];
  readonly schedule: ScheduleOptions;
  /** Reads only: no registry write, no ledger write. */
  readonly dryRun: boolean;
  readonly forceOverwrite: boolean;
  readonly maxOverwrites: number;
  /** verify: also look for signatures that a mirror has and the primary lacks. */
  readonly checkUnsigned: boolean;
  readonly stopping: () => boolean;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly random: () => number;
  readonly hostConcurrency: (host: string) => number;
  readonly giveUpAfter: number;
  readonly repositoryConcurrency: number;
  readonly flushEvery: number;
  readonly isHostFailure: (err: unknown) => boolean;
  readonly onEvent?: (e: EngineEvent) => void;
}

export type EngineEvent =
  | { kind: "copied" | "would-copy"; host: string; repository: string; tag: string; digest: string }
  | { kind: "replaced" | "would-replace"; host: string; repository: string; tag: string; digest: string; from: string }
  | { kind: "conflict" | "failed" | "drift"; host: string; repository: string; tag: string; digest?: string; reason: string }
  | { kind: "given-up"; host: string; reason: string };

/** A subject as this run knows it: what the ledger said, then what the primary said. */
interface Work {
  readonly key: SubjectKey;
  /** Sorted, distinct. The group's own array until an index's children merge more in. */
  mirrors: readonly string[];
  readonly known: Subject | undefined;
  /** Set once the primary was read this run, or taken from the ledger when not due. */
  state: SubjectState | undefined;
  /** Replaced, never changed in place: it may be the ledger's own map. */
  tags: ReadonlyMap<Suffix, string>;
  readFailed: boolean;
  /** expectedKey(), once the tags are known. */
  expected: number | undefined;
}

const noTags: ReadonlyMap<Suffix, string> = new Map();

/** `a` with `b` merged in, sorted; `a` itself when `b` adds nothing (the common case). */
function mergeSorted(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.every((m) => a.includes(m))) return a;
  return [...new Set([...a, ...b])].sort();
}

const sec = (ms: number): number => Math.floor(ms / 1000);
const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "error";

export class Engine {
  private readonly queues: HostQueues;
  private readonly tags: TagResolver;
  readonly tally = new Tally();
  private overwrites = 0;
  private readonly announcedGivenUp = new Set<string>();
  private stoppedEarly = false;
  /** Ledger subject id -> its mirrors now, for pruning the ledger after a complete run. */
  readonly live = new Map<number, { readonly mirrors: readonly string[]; readonly expectedKey: number }>();
  /** expectedPairsKey() per distinct (mirrors, suffixes): most groups share one mirror set. */
  private readonly expectedKeys = new Map<number, number>();

  constructor(
    private readonly port: RegistryPort,
    private readonly ledger: Ledger,
    private readonly o: EngineOptions,
  ) {
    this.queues = new HostQueues({
      limit: o.hostConcurrency,
      stopping: o.stopping,
      giveUpAfter: o.giveUpAfter,
      isHostFailure: o.isHostFailure,
    });
    this.tags = new TagResolver(port, this.queues);
  }

  /** True when every repository was gone through (no stop, no deadline). */
  get complete(): boolean {
    return !this.stoppedEarly;
  }

  private get writes(): boolean {
    return this.o.verb === "replicate" && !this.o.dryRun;
  }

  async run(groups: readonly ReplicaGroup[]): Promise<void> {
    const byRepo = new Map<string, ReplicaGroup[]>();
    for (const g of groups) {
      const k = `${g.primary}\n${g.repository}`;
      let list = byRepo.get(k);
      if (list === undefined) byRepo.set(k, (list = []));
      list.push(g);
    }
    const repos = [...byRepo.values()];
    this.declare(groups);
    let next = 0;
    let lastFlush = Date.now();
    const worker = async () => {
      while (next < repos.length) {
        if (this.o.stopping()) {
          this.stoppedEarly = true;
          return;
        }
        const batch = repos[next++] ?? [];
        await this.repository(batch);
        // By count and by time: a kill -9 loses at most a few seconds of a slow run's work.
        if (this.ledger.pendingWrites >= this.o.flushEvery || (this.ledger.pendingWrites > 0 && Date.now() - lastFlush >= 5000)) {
          this.ledger.flush();
          lastFlush = Date.now();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.o.repositoryConcurrency) }, worker));
    this.ledger.flush();
    for (const host of this.tally.hosts()) {
      const why = this.queues.givenUp(host);
      if (why !== undefined) this.tally.host(host).givenUp = why;
    }
  }

  /** Token requests count against quota: let the client ask for several repositories per token. */
  private declare(groups: readonly ReplicaGroup[]): void {
    if (this.port.declareRepositories === undefined) return;
    const reads = new Map<string, Set<string>>();
    const writes = new Map<string, Set<string>>();
    const add = (m: Map<string, Set<string>>, host: string, repository: string) => {
      let set = m.get(host);
      if (set === undefined) m.set(host, (set = new Set()));
      set.add(repository);
    };
    for (const g of groups) {
      add(reads, g.primary, g.repository);
      for (const m of g.mirrors) add(this.writes ? writes : reads, m, g.repository);
    }
    for (const [host, repos] of reads) this.port.declareRepositories(host, [...repos], "pull");
    for (const [host, repos] of writes) this.port.declareRepositories(host, [...repos], "push");
  }

  private newWork(key: SubjectKey, mirrors: readonly string[]): Work {
    return { key, mirrors, known: this.ledger.subject(key), state: undefined, tags: noTags, readFailed: false, expected: undefined };
  }

  private async repository(groups: readonly ReplicaGroup[]): Promise<void> {
    const first = groups[0];
    if (first === undefined) return;
    const primary = first.primary;
    const repository = first.repository;
    const works = new Map<string, Work>();
    const add = (digest: string, mirrors: readonly string[]): Work => {
      const existing = works.get(digest);
      if (existing !== undefined) {
        const merged = mergeSorted(existing.mirrors, mirrors);
        if (merged !== existing.mirrors) {
          existing.mirrors = merged;
          existing.expected = undefined;
        }
        return existing;
      }
      const w = this.newWork({ primary, repository, digest }, mirrors);
      works.set(digest, w);
      return w;
    };
    // The plan's mirrors are sorted and distinct already.
    for (const g of groups) add(g.digest, g.mirrors);
    // Children the ledger already knows (an index's children never change).
    for (let depth = 0, frontier = [...works.values()]; depth < 3 && frontier.length > 0; depth++) {
      const found: Work[] = [];
      for (const w of frontier) {
        for (const child of this.ledger.children(w.key.digest) ?? []) {
          if (!works.has(child)) found.push(add(child, w.mirrors));
          else add(child, w.mirrors);
        }
      }
      frontier = found;
    }

    await this.readPrimary(primary, repository, works, add);
    for (const w of works.values()) {
      if (w.known !== undefined) this.live.set(w.known.id, { mirrors: w.mirrors, expectedKey: this.expectedKey(w) });
      if (w.state === "unsigned") this.tally.unsigned++;
      if (w.state === "missing") this.tally.missingOnPrimary++;
    }
    await this.checkMirrors(primary, repository, [...works.values()]);
  }

  /** The pair summary a subject has once every mirror holds every family tag it has. */
  private expectedKey(w: Work): number {
    if (w.expected !== undefined) return w.expected;
    const suffixes = this.o.suffixes.filter((s) => w.tags.has(s));
    const k = listKey(w.mirrors, suffixes);
    let key = this.expectedKeys.get(k);
    if (key === undefined) this.expectedKeys.set(k, (key = expectedPairsKey(w.mirrors, suffixes)));
    w.expected = key;
    return key;
  }

  /** Nothing to ask any mirror: the primary's tags are the ledger's, and every pair is there and not due. */
  private mirrorsSettled(w: Work, now: number): boolean {
    const k = w.known;
    if (k === undefined || this.o.verb === "verify" || this.o.schedule.force) return false;
    for (const s of this.o.suffixes) if (w.tags.get(s) !== k.tags.get(s)) return false;
    return k.pairsKey === this.expectedKey(w) && !isDue(k.pairsDue, now, this.o.schedule);
  }

  private primaryDue(w: Work, now: number): boolean {
    if (this.o.verb === "verify" || w.known === undefined) return true;
    if (this.ledger.children(w.key.digest) === undefined) return true;
    // A suffix no run looked for yet (--tag-suffixes widened): the ledger cannot say it is absent.
    for (const s of this.o.suffixes) if (!w.known.families.has(s)) return true;
    return isDue(w.known.dueAt, now, this.o.schedule);
  }

  /** Reads the primary's state of every due subject; new children found on the way are read too. */
  private async readPrimary(
    primary: string,
    repository: string,
    works: Map<string, Work>,
    add: (digest: string, mirrors: readonly string[]) => Work,
  ): Promise<void> {
    const done = new Set<Work>();
    for (let round = 0; round < 4; round++) {
      const now = sec(this.o.now());
      const due: Work[] = [];
      for (const w of works.values()) {
        if (done.has(w)) continue;
        done.add(w);
        if (this.primaryDue(w, now)) due.push(w);
        else {
          w.state = w.known?.state;
          w.tags = w.known?.tags ?? noTags;
        }
      }
      if (due.length === 0) return;
      // A digest read for the first time: is it there, and is it an index? Content addressed: once.
      const present = new Set<Work>();
      await Promise.all(
        due.map(async (w) => {
          if (this.ledger.children(w.key.digest) !== undefined && w.known?.state !== "missing") {
            present.add(w);
            return;
          }
          try {
            const m = await this.queues.run(primary, () => this.port.getManifest(primary, repository, w.key.digest));
            if (m === undefined) return;
            present.add(w);
            const children = indexChildren(m.mediaType, m.bytes);
            this.ledger.putChildren(w.key.digest, children.length > 0, children);
            for (const child of children) add(child, w.mirrors);
          } catch (err) {
            w.readFailed = true;
            this.primaryFailure(primary, repository, w.key.digest, err);
          }
        }),
      );
      const lookups: TagLookup[] = [];
      for (const w of present) {
        for (const s of this.o.suffixes) lookups.push({ tag: familyTag(w.key.digest, s), expectPresent: w.known?.tags.has(s) ?? false });
      }
      const found = lookups.length === 0 ? new Map<string, TagState | Error>() : await this.tags.resolve(primary, repository, lookups);
      const checkedAt = sec(this.o.now());
      for (const w of due) {
        if (w.readFailed) continue;
        const tags = new Map<Suffix, string>();
        let failed = false;
        if (present.has(w)) {
          for (const s of this.o.suffixes) {
            const r = found.get(familyTag(w.key.digest, s));
            if (r instanceof Error) {
              failed = true;
              this.primaryFailure(primary, repository, familyTag(w.key.digest, s), r);
            } else if (r?.present) tags.set(s, r.digest);
          }
        }
        if (failed) {
          w.readFailed = true;
          continue;
        }
        // Tags outside this run's family stay as the ledger had them.
        for (const [s, d] of w.known?.tags ?? []) if (!this.o.suffixes.includes(s)) tags.set(s, d);
        this.settle(w, present.has(w) ? (tags.size > 0 ? "signed" : "unsigned") : "missing", tags, checkedAt);
      }
    }
  }

  private settle(w: Work, state: SubjectState, tags: ReadonlyMap<Suffix, string>, checkedAt: number): void {
    const k = w.known;
    const firstSeen = k?.firstSeen ?? checkedAt;
    const changed = k === undefined || k.state !== "signed" || [...tags].some(([s, d]) => k.tags.get(s) !== d);
    const signedAt = state === "signed" ? (changed ? checkedAt : (k?.signedAt ?? checkedAt)) : undefined;
    w.state = state;
    w.tags = tags;
    w.expected = undefined;
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
    });
  }

  private primaryFailure(primary: string, repository: string, ref: string, err: unknown): void {
    this.fail({ host: primary, repository, tag: ref }, undefined, err, "primary");
  }

  private async checkMirrors(primary: string, repository: string, works: readonly Work[]): Promise<void> {
    const now = sec(this.o.now());
    type Need = { w: Work; suffix: Suffix; tag: string; digest: string; expectPresent: boolean };
    const byMirror = new Map<string, Need[]>();
    const push = (m: string, n: Need) => {
      let list = byMirror.get(m);
      if (list === undefined) byMirror.set(m, (list = []));
      list.push(n);
    };
    for (const w of works) {
      if (w.readFailed) continue;
      if (w.state === "signed") {
        if (this.mirrorsSettled(w, now)) continue;
        const pairs = new Map((w.known === undefined ? [] : this.ledger.pairsOf(w.known)).map((p) => [`${p.mirror}\n${p.suffix}`, p]));
        for (const [suffix, digest] of w.tags) {
          if (!this.o.suffixes.includes(suffix)) continue;
          for (const m of w.mirrors) {
            const p = pairs.get(`${m}\n${suffix}`);
            const due = this.o.verb === "verify" || p === undefined || p.digest !== digest || isDue(p.dueAt, now, this.o.schedule);
            if (due) push(m, { w, suffix, tag: familyTag(w.key.digest, suffix), digest, expectPresent: p !== undefined });
          }
        }
      } else if (w.state === "unsigned" && this.o.verb === "verify" && this.o.checkUnsigned) {
        for (const suffix of this.o.suffixes) {
          for (const m of w.mirrors) push(m, { w, suffix, tag: familyTag(w.key.digest, suffix), digest: "", expectPresent: false });
        }
      }
    }
    await Promise.all(
      [...byMirror].map(async ([mirror, needs]) => {
        const found = await this.tags.resolve(mirror, repository, needs);
        await Promise.all(needs.map((n) => this.settlePair(primary, mirror, repository, n, found.get(n.tag))));
      }),
    );
  }

  private async settlePair(
    primary: string,
    mirror: string,
    repository: string,
    n: { w: Work; suffix: Suffix; tag: string; digest: string },
    seen: TagState | Error | undefined,
  ): Promise<void> {
    const t = this.tally.host(mirror, "mirror");
    const where = { host: mirror, repository, tag: n.tag };
    if (seen === undefined || seen instanceof Error) {
      if (seen instanceof Stopped) return;
      this.fail(where, n.digest, seen ?? new Error("not looked up"));
      return;
    }
    t.checked++;
    this.tally.pairsChecked++;
    if (n.digest === "") {
      // --check-unsigned: the primary has no signature; a mirror holding one is drift.
      if (seen.present) this.drift(where, seen.digest, "the mirror holds a signature the primary lacks");
      return;
    }
    if (seen.present && seen.digest === n.digest) {
      t.alreadyThere++;
      this.tally.alreadyThere++;
      this.verified(n.w, mirror, n.suffix, n.digest);
      return;
    }
    if (this.o.verb === "verify") {
      this.drift(where, n.digest, seen.present ? `stale: mirror holds ${seen.digest}` : "missing on the mirror");
      return;
    }
    if (!seen.present) {
      await this.copy(primary, mirror, repository, n, n.digest, undefined);
      return;
    }
    await this.replace(primary, mirror, repository, n, seen.digest);
  }

  /** The mirror holds the tag at another digest: replace only what the primary's manifest supersedes. */
  private async replace(
    primary: string,
    mirror: string,
    repository: string,
    n: { w: Work; suffix: Suffix; tag: string; digest: string },
    theirs: string,
  ): Promise<void> {
    const where = { host: mirror, repository, tag: n.tag };
    try {
      // The signer may have moved the tag since we read it: the live primary decides.
      const live = await this.queues.run(primary, () => this.port.getManifest(primary, repository, n.tag));
      if (live === undefined) {
        this.fail(where, n.digest, new Error(`the primary no longer has ${n.tag}`));
        return;
      }
      if (live.digest !== n.digest) this.retag(n.w, n.suffix, live.digest);
      if (live.digest === theirs) {
        this.tally.host(mirror).alreadyThere++;
        this.tally.alreadyThere++;
        this.verified(n.w, mirror, n.suffix, theirs);
        return;
      }
      const mine = await this.queues.run(mirror, () => this.port.getManifest(mirror, repository, theirs));
      if (mine === undefined) {
        // Gone meanwhile: an absent tag is a plain copy.
        await this.copy(primary, mirror, repository, n, live.digest, undefined);
        return;
      }
      if (!this.o.forceOverwrite && !holdsEveryLayer(live.bytes, mine.bytes)) {
        this.conflict(where, theirs, `the mirror's ${theirs} holds signatures the primary's ${live.digest} lacks`);
        return;
      }
      if (this.overwrites >= this.o.maxOverwrites) {
        this.conflict(where, theirs, `not replaced: --max-overwrites ${this.o.maxOverwrites} reached`);
        return;
      }
      this.overwrites++;
      await this.copy(primary, mirror, repository, n, live.digest, theirs);
    } catch (err) {
      if (!(err instanceof Stopped)) this.fail(where, n.digest, err);
    }
  }

  private async copy(
    primary: string,
    mirror: string,
    repository: string,
    n: { w: Work; suffix: Suffix; tag: string },
    digest: string,
    replacing: string | undefined,
  ): Promise<void> {
    const where = { host: mirror, repository, tag: n.tag };
    const t = this.tally.host(mirror);
    if (this.o.dryRun) {
      if (replacing === undefined) this.o.onEvent?.({ kind: "would-copy", ...where, digest });
      else this.o.onEvent?.({ kind: "would-replace", ...where, digest, from: replacing });
      if (replacing === undefined) (t.copied++, this.tally.copied++);
      else (t.replaced++, this.tally.replaced++, this.tally.replacedList.push({ ...where, from: replacing, to: digest }));
      return;
    }
    try {
      await this.queues.run(mirror, () => this.port.copy({ host: primary, repository }, { host: mirror, repository }, n.tag, digest));
    } catch (err) {
      if (err instanceof Stopped) return;
      this.fail(where, digest, err);
      return;
    }
    if (replacing === undefined) {
      t.copied++;
      this.tally.copied++;
      this.o.onEvent?.({ kind: "copied", ...where, digest });
    } else {
      t.replaced++;
      this.tally.replaced++;
      this.tally.replacedList.push({ ...where, from: replacing, to: digest });
      this.o.onEvent?.({ kind: "replaced", ...where, digest, from: replacing });
    }
    this.verified(n.w, mirror, n.suffix, digest);
  }

  /** The primary's tag moved during the run: the subject's state follows it. */
  private retag(w: Work, suffix: Suffix, digest: string): void {
    if (w.tags.get(suffix) === digest) return;
    this.settle(w, "signed", new Map([...w.tags, [suffix, digest]]), sec(this.o.now()));
  }

  private verified(w: Work, mirror: string, suffix: Suffix, digest: string): void {
    if (!this.writes) return;
    if (w.known === undefined && w.state === undefined) return;
    // To the minute: finer says nothing more, and a stored ledger compresses far better.
    const at = Math.floor(sec(this.o.now()) / 60) * 60;
    this.ledger.putPair(w.key, mirror, suffix, digest, at, pairDueAt(at, this.o.schedule, this.o.random()));
  }

  private fail(
    where: { host: string; repository: string; tag: string },
    digest: string | undefined,
    err: unknown,
    role: "primary" | "mirror" = "mirror",
  ): void {
    if (err instanceof Stopped) return;
    const at = digest === undefined || digest === "" ? where : { ...where, digest };
    if (err instanceof HostGivenUp) {
      this.tally.failure({ ...at, reason: err.message }, role);
      if (!this.announcedGivenUp.has(err.host)) {
        this.announcedGivenUp.add(err.host);
        this.o.onEvent?.({ kind: "given-up", host: err.host, reason: err.why });
      }
      return;
    }
    const reason = errText(err);
    this.tally.failure({ ...at, reason }, role);
    this.o.onEvent?.({ kind: "failed", ...at, reason });
  }

  private conflict(where: { host: string; repository: string; tag: string }, digest: string, reason: string): void {
    this.tally.conflict({ ...where, digest, reason });
    this.o.onEvent?.({ kind: "conflict", ...where, digest, reason });
  }

  private drift(where: { host: string; repository: string; tag: string }, digest: string, reason: string): void {
    this.tally.driftFound({ ...where, digest, reason });
    this.o.onEvent?.({ kind: "drift", ...where, digest, reason });
  }
}

