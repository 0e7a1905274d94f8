import { Names, noChildren, num, suffixCode, type Suffix } from "./codes.ts";
import { isSqliteError, LedgerError, writeError } from "./errors.ts";
import { WriteApplier } from "./apply.ts";
import { loadLedger } from "./load.ts";
import { readReferrerPairs, readTagPairs } from "./read-pairs.ts";
import { MirrorSets } from "./settle.ts";
import { digestToBlob } from "./digest.ts";
import { openForRead, openForWrite, type OpenedLedger } from "./open.ts";
import type { Database } from "./sqlite.ts";
import type { Pair, ReferrerPair, Subject, SubjectKey, SubjectUpdate, Write } from "./types.ts";

export { FAMILIES, type SubjectState, type Suffix } from "./codes.ts";
export type { LedgerReferrer, Pair, ReferrerPair, Subject, SubjectKey, SubjectUpdate } from "./types.ts";

/**
 * The ledger of one run: everything read once at open (a run asks about every group), writes
 * queued and committed in batches by `flush()`, so a kill at any moment loses at most the
 * batch in flight, and a pair is only ever written after the registry was seen to hold it.
 */
export class Ledger {
  private readonly hosts = new Names();
  private readonly repositories = new Names();
  /** primary -> repository -> digest -> subject: no concatenated key string per subject. */
  private readonly subjects = new Map<string, Map<string, Map<string, Subject>>>();
  private count = 0;
  private readonly childrenOf = new Map<string, readonly string[]>();
  private readonly sets = new MirrorSets();
  private pending: Write[] = [];
  private readonly applier = new WriteApplier(this.hosts, this.repositories, this.sets, (key) => this.subject(key)?.id);

  private constructor(
    readonly path: string,
    private readonly opened: OpenedLedger | undefined,
    readonly writable: boolean,
  ) {
    if (opened === undefined) return;
    try {
      loadLedger(opened.db, { hosts: this.hosts, repositories: this.repositories, sets: this.sets, childrenOf: this.childrenOf, index: (p, r, d, s) => this.index(p, r, d, s) });
    } catch (err) {
      opened.close();
      const text = (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
      throw new LedgerError(path, `corrupt ledger: ${text}`, "corrupt");
    }
  }

  /** For replicate: validated, locked, migrated. */
  static openForRun(path: string): Ledger {
    return new Ledger(path, openForWrite(path), true);
  }

  /** For dry runs, verify, stats: no lock, no writes; a missing file is an empty ledger. */
  static openReadOnly(path: string): Ledger {
    return new Ledger(path, openForRead(path), false);
  }

  /** No file at all (`--no-ledger`): every pair is due, nothing is kept. */
  static none(): Ledger {
    return new Ledger(":none:", undefined, false);
  }

  private index(primary: string, repository: string, digest: string, subject: Subject): void {
    let byRepo = this.subjects.get(primary);
    if (byRepo === undefined) this.subjects.set(primary, (byRepo = new Map()));
    let byDigest = byRepo.get(repository);
    if (byDigest === undefined) byRepo.set(repository, (byDigest = new Map()));
    byDigest.set(digest, subject);
    this.count++;
  }

  get subjectCount(): number {
    return this.count;
  }

  /** Tag pairs, folded or not (the tag_pairs view). */
  get pairCount(): number {
    return num(this.opened?.db.prepare("SELECT count(*) AS n FROM tag_pairs").get()?.["n"]);
  }

  /**
   * The id of the mirror set of these hosts, as subjects' settledOn holds it; 0 when no subject was
   * ever settled on it. Cached by the array: a plan shares one array per host set.
   */
  mirrorSet(hosts: readonly string[]): number {
    let id = this.setIds.get(hosts);
    if (id !== undefined) return id;
    const ids: number[] = [];
    for (const h of hosts) {
      const hostId = this.hosts.byName.get(h);
      if (hostId === undefined) break;
      ids.push(hostId);
    }
    id = ids.length === hosts.length ? (this.sets.find(ids) ?? 0) : 0;
    this.setIds.set(hosts, id);
    return id;
  }
  private readonly setIds = new WeakMap<readonly string[], number>();

  subject(key: SubjectKey): Subject | undefined {
    return this.subjects.get(key.primary)?.get(key.repository)?.get(key.digest);
  }

  /** What the ledger says `mirror` holds for the subject's `suffix` tag. */
  pair(subject: Subject, mirror: string, suffix: Suffix): Pair | undefined {
    return this.pairsOf(subject).find((p) => p.mirror === mirror && p.suffix === suffix);
  }

  /** Read when asked: a warm run never does for a subject settled on its mirrors. */
  pairsOf(subject: Subject): Pair[] {
    const db = this.opened?.db;
    return db === undefined ? [] : readTagPairs(db, this.hosts, this.sets, subject.id);
  }

  /** The mirrors seen to serve and list each of its referrers: read when asked, as pairsOf(). */
  referrerPairsOf(subject: Subject): ReferrerPair[] {
    const db = this.opened?.db;
    return db === undefined ? [] : readReferrerPairs(db, this.hosts, this.sets, subject.id);
  }

  /** The children of an index, [] for a plain manifest, undefined when never read. */
  children(digest: string): readonly string[] | undefined {
    return this.childrenOf.get(digest);
  }

  /** Every subject in the ledger (for explain and pruning). */
  *entries(): Generator<[SubjectKey, Subject]> {
    for (const [primary, byRepo] of this.subjects) {
      for (const [repository, byDigest] of byRepo) {
        for (const [digest, s] of byDigest) yield [{ primary, repository, digest }, s];
      }
    }
  }

  /** Every subject, as an array (no generator step per subject: prune walks 92,000 of them). */
  private all(): Subject[] {
    const out: Subject[] = [];
    for (const byRepo of this.subjects.values()) for (const byDigest of byRepo.values()) for (const s of byDigest.values()) out.push(s);
    return out;
  }

  // Writes: queued, committed by flush(). A read-only ledger accepts and drops them,
  // so a dry run walks the same code path.

  putSubject(key: SubjectKey, update: SubjectUpdate): void {
    // Its manifest, read this run or before, rides on its row (the children of an index on their own).
    const children = this.childrenOf.get(key.digest);
    this.pending.push({ kind: "subject", key, update, manifest: children === undefined ? 0 : children.length === 0 ? 1 : 2 });
  }

  /** Before the subject's putSubject(), which records that it was read. */
  putChildren(digest: string, isIndex: boolean, children: readonly string[]): void {
    this.childrenOf.set(digest, isIndex ? children : noChildren);
    this.pending.push({ kind: "children", digest, isIndex, children });
  }

  /** Only after `mirror` was seen, or made, to hold `digest` under the subject's `suffix` tag. */
  putPair(key: SubjectKey, mirror: string, suffix: Suffix, digest: string, verifiedAt: number, dueAt: number): void {
    this.pending.push({ kind: "pair", key, mirror, suffix, digest, verifiedAt, dueAt });
  }

  /** The mirror was seen not to hold what the ledger said. */
  dropPair(key: SubjectKey, mirror: string, suffix: Suffix): void {
    this.pending.push({ kind: "unpair", key, mirror, suffix });
  }

  /** Only after `mirror` was seen, or made, to serve the referrer `digest` by digest and list it. */
  putReferrerPair(key: SubjectKey, mirror: string, digest: string, verifiedAt: number, dueAt: number): void {
    this.pending.push({ kind: "refpair", key, mirror, digest, verifiedAt, dueAt });
  }

  get pendingWrites(): number {
    return this.pending.length;
  }

  /**
   * Commits every queued write in one transaction. After a failed commit the interned ids cached
   * here may name rolled-back rows, so the ledger refuses further writes for this run, each time
   * with the first error. A SQLite failure is thrown as a LedgerError naming the file (problem
   * "full" for a full disk); anything else (a bug of ours) as it is.
   */
  flush(): void {
    const writes = this.pending;
    this.pending = [];
    const db = this.opened?.db;
    if (!this.writable || db === undefined) return;
    if (this.failed !== undefined) throw this.failed;
    if (writes.length === 0) return;
    this.write(() =>
      db.transaction(() => {
        const touched = new Set<number>();
        for (const w of writes) {
          const id = this.applier.apply(db, w);
          if (id !== undefined) touched.add(id);
        }
        for (const id of touched) this.applier.summarise(db, id);
      }),
    );
  }
  private failed: Error | undefined;

  private asWriteError(err: unknown): Error {
    if (isSqliteError(err)) return writeError(this.path, err, "cannot write the ledger");
    return err instanceof Error ? err : new Error(String(err));
  }

  /**
   * Forgets subjects no longer in any manifest, pairs of hosts no longer mirrors of their group,
   * and old run rows. Only after a run that saw every group (no filters). `live` maps the id of
   * each ledger subject still in the plan to its mirrors: only subjects not settled on exactly
   * those mirrors have their pairs read.
   */
  prune(live: ReadonlyMap<number, readonly string[]>, keepRunsSince: number): { subjects: number; pairs: number } {
    const db = this.opened?.db;
    if (!this.writable || db === undefined) return { subjects: 0, pairs: 0 };
    this.flush();
    let subjects = 0;
    let pairs = 0;
    this.write(() =>
      db.transaction(() => {
        for (const s of this.all()) {
          const mirrors = live.get(s.id);
          if (mirrors === undefined) {
            subjects += db.prepare("DELETE FROM subjects WHERE id = ?").run(s.id).changes;
            continue;
          }
          // Settled on exactly these mirrors, or no pair at all, when loaded: this run wrote pairs
          // of these mirrors only, so none of another host can be there.
          if (s.settledOn === this.mirrorSet(mirrors) && s.settledOn !== 0) continue;
          if (s.settledOn === 0 && s.pairsDue === 0) continue;
          const stale = (p: { mirror: string }) => !mirrors.includes(p.mirror) && this.hosts.byName.has(p.mirror);
          const tagPairs = this.pairsOf(s).filter(stale);
          const refPairs = this.referrerPairsOf(s).filter(stale);
          if (tagPairs.length + refPairs.length === 0) continue;
          this.applier.unfoldForPrune(db, s.id);
          const hostId = (p: { mirror: string }) => this.hosts.byName.get(p.mirror) ?? 0;
          for (const p of tagPairs) db.prepare("DELETE FROM pairs WHERE subject_id = ? AND host_id = ? AND suffix = ?").run(s.id, hostId(p), suffixCode(p.suffix));
          for (const p of refPairs) db.prepare("DELETE FROM referrer_pairs WHERE subject_id = ? AND host_id = ? AND digest = ?").run(s.id, hostId(p), digestToBlob(p.digest));
          this.applier.summarise(db, s.id);
          pairs += tagPairs.length + refPairs.length;
        }
        db.prepare("DELETE FROM runs WHERE started_at < ? AND id NOT IN (SELECT id FROM runs ORDER BY id DESC LIMIT 100)").run(keepRunsSince);
      }),
    );
    return { subjects, pairs };
  }

  startRun(verb: string, startedAt: number): number {
    const db = this.opened?.db;
    if (!this.writable || db === undefined) return 0;
    return this.write(() => db.prepare("INSERT INTO runs (verb, started_at) VALUES (?, ?)").run(verb, startedAt).lastInsertRowid);
  }

  /** A no-op after a failed write: the run already has that (first) error to report. */
  finishRun(id: number, finishedAt: number, summary: unknown): void {
    const db = this.opened?.db;
    if (!this.writable || db === undefined || id === 0 || this.failed !== undefined) return;
    this.write(() => db.prepare("UPDATE runs SET finished_at = ?, summary = ? WHERE id = ?").run(finishedAt, JSON.stringify(summary), id));
  }

  /** Runs a write outside flush(); a failure is kept as the ledger's first error, like a flush's. */
  private write<T>(fn: () => T): T {
    if (this.failed !== undefined) throw this.failed;
    try {
      return fn();
    } catch (err) {
      this.failed = this.asWriteError(err);
      throw this.failed;
    }
  }

  /**
   * A consistent copy of the committed ledger in one file (no WAL beside it), for storing it
   * elsewhere; queued writes are committed first. False without a database.
   */
  snapshotTo(path: string): boolean {
    const db = this.opened?.db;
    if (db === undefined) return false;
    this.flush();
    db.prepare("VACUUM INTO ?").run(path);
    return true;
  }

  /** The underlying database, for `ledger stats` queries; undefined without a file. */
  get database(): Database | undefined {
    return this.opened?.db;
  }

  close(): void {
    this.opened?.close();
  }
}
