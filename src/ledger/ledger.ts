import { digestPrefix, digestToBlob } from "./digest.ts";
import { isSqliteError, LedgerError, writeError } from "./errors.ts";
import { openForRead, openForWrite, type OpenedLedger } from "./open.ts";
import { pairsKey } from "./pairs-key.ts";
import type { Database, SqlValue } from "./sqlite.ts";

/**
 * The artefact families a subject's tags belong to, as the ledger stores them: a family's position
 * here is its code on disk, so the list only ever grows at its end. What a family means on a
 * registry (cosign's `sha256-<hex>.sig` tags) is src/cosign/'s business, not the ledger's.
 */
export const FAMILIES = ["sig", "att", "sbom"] as const;
export type Suffix = (typeof FAMILIES)[number];
const SUFFIXES = FAMILIES;
const suffixCode = (s: Suffix): number => SUFFIXES.indexOf(s);
const suffixOf = (code: number): Suffix => SUFFIXES[code] ?? "sig";
const familiesMask = (f: ReadonlySet<Suffix>): number => [...f].reduce((m, s) => m | (1 << suffixCode(s)), 0);
/** Shared sets: nearly every subject has the same families. */
const familySets = new Map<number, ReadonlySet<Suffix>>();
function familiesOf(mask: number): ReadonlySet<Suffix> {
  let set = familySets.get(mask);
  if (set === undefined) familySets.set(mask, (set = new Set(SUFFIXES.filter((_, i) => (mask & (1 << i)) !== 0))));
  return set;
}

/** missing: not on the primary (not promoted yet); unsigned: there, no family tag; signed: has some. */
export type SubjectState = "missing" | "unsigned" | "signed";
const STATES: readonly SubjectState[] = ["missing", "unsigned", "signed"];

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
}

/** A subject as the ledger holds it. */
export interface Subject extends SubjectUpdate {
  readonly id: number;
  readonly key: SubjectKey;
  /** pairsKey() of its verified (mirror, suffix) pairs: a warm run compares it and reads no pair. */
  readonly pairsKey: number;
  /** The earliest due time of those pairs. */
  readonly pairsDue: number;
  readonly families: ReadonlySet<Suffix>;
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

const keyOf = (k: SubjectKey): string => `${k.primary}\n${k.repository}\n${k.digest}`;

type Write =
  | { kind: "subject"; key: SubjectKey; update: SubjectUpdate }
  | { kind: "children"; digest: string; isIndex: boolean; children: readonly string[] }
  | { kind: "pair"; key: SubjectKey; mirror: string; suffix: Suffix; digest: string; verifiedAt: number; dueAt: number }
  | { kind: "unpair"; key: SubjectKey; mirror: string; suffix: Suffix };

/** Interned names: the ledger stores integers, the engine speaks strings. */
class Names {
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

/** SQL for a digests row's text: sha256 from its 32 bytes, anything else stored as its text. */
const digestText = (alias: string): string =>
  `CASE WHEN length(${alias}.value) = 32 THEN 'sha256:' || lower(hex(${alias}.value)) ELSE CAST(${alias}.value AS TEXT) END`;

/** Shared by every plain manifest's entry. */
const noChildren: readonly string[] = [];

const num = (v: SqlValue | undefined): number => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : 0);

/**
 * The ledger of one run: everything read once at open (a run asks about every group), writes
 * queued and committed in batches by `flush()`, so a kill at any moment loses at most the
 * batch in flight, and a pair is only ever written after the registry was seen to hold it.
 */
export class Ledger {
  private readonly hosts = new Names();
  private readonly repositories = new Names();
  /** Digest -> id, of those this run wrote: looked up in the file the first time. */
  private readonly digestIds = new Map<string, number>();
  /** primary -> repository -> digest -> subject: no concatenated key string per subject. */
  private readonly subjects = new Map<string, Map<string, Map<string, Subject>>>();
  private count = 0;
  private readonly childrenOf = new Map<string, readonly string[]>();
  private pending: Write[] = [];
  /** Ids of subjects written since load, so pairs queued after them need no look-up. */
  private readonly writtenIds = new Map<string, number>();

  private constructor(
    readonly path: string,
    private readonly opened: OpenedLedger | undefined,
    readonly writable: boolean,
  ) {
    if (opened === undefined) return;
    try {
      this.load(opened.db);
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

  private load(db: Database): void {
    for (const r of db.prepare("SELECT id, name FROM hosts").all()) this.hosts.add(num(r["id"]), String(r["name"]));
    for (const r of db.prepare("SELECT id, name FROM repositories").all()) this.repositories.add(num(r["id"]), String(r["name"]));
    // Digests come joined in, as text made by SQLite: no table of every digest (92,000 at k8s
    // scale) is held here, and no blob buffer is made per digest. The write path looks them up.
    const tags = new Map<number, Map<Suffix, string>>();
    for (const r of db.prepare(`SELECT t.subject_id, t.suffix, ${digestText("d")} AS digest FROM subject_tags t JOIN digests d ON d.id = t.digest_id`).all()) {
      const id = num(r["subject_id"]);
      let m = tags.get(id);
      if (m === undefined) tags.set(id, (m = new Map()));
      m.set(suffixOf(num(r["suffix"])), String(r["digest"]));
    }
    const rows = db
      .prepare(
        `SELECT s.id, s.host_id, s.repository_id, ${digestText("d")} AS digest, s.state, s.first_seen, s.signed_at, s.checked_at,
                s.due_at, s.families, s.pairs_key, s.pairs_due
         FROM subjects s JOIN digests d ON d.id = s.digest_id`,
      )
      .all();
    for (const r of rows) {
      const id = num(r["id"]);
      const key: SubjectKey = {
        primary: this.hosts.byId.get(num(r["host_id"])) ?? "",
        repository: this.repositories.byId.get(num(r["repository_id"])) ?? "",
        digest: String(r["digest"]),
      };
      this.index(key, {
        id,
        key,
        state: STATES[num(r["state"])] ?? "missing",
        firstSeen: num(r["first_seen"]),
        signedAt: r["signed_at"] === null ? undefined : num(r["signed_at"]),
        checkedAt: num(r["checked_at"]),
        dueAt: num(r["due_at"]),
        tags: tags.get(id) ?? new Map(),
        pairsKey: num(r["pairs_key"]),
        pairsDue: num(r["pairs_due"]),
        families: familiesOf(num(r["families"])),
      });
    }
    const isIndex = new Map<string, boolean>();
    for (const r of db.prepare(`SELECT ${digestText("d")} AS digest, m.is_index FROM manifests_read m JOIN digests d ON d.id = m.digest_id`).all()) {
      isIndex.set(String(r["digest"]), num(r["is_index"]) === 1);
    }
    const kids = new Map<string, string[]>();
    const childRows = db
      .prepare(
        `SELECT ${digestText("p")} AS parent, ${digestText("c")} AS child FROM children k
         JOIN digests p ON p.id = k.parent_id JOIN digests c ON c.id = k.child_id ORDER BY k.parent_id, k.position`,
      )
      .all();
    for (const r of childRows) {
      const parent = String(r["parent"]);
      let list = kids.get(parent);
      if (list === undefined) kids.set(parent, (list = []));
      list.push(String(r["child"]));
    }
    for (const [digest, index] of isIndex) this.childrenOf.set(digest, index ? (kids.get(digest) ?? noChildren) : noChildren);
  }

  private index(key: SubjectKey, subject: Subject): void {
    let byRepo = this.subjects.get(key.primary);
    if (byRepo === undefined) this.subjects.set(key.primary, (byRepo = new Map()));
    let byDigest = byRepo.get(key.repository);
    if (byDigest === undefined) byRepo.set(key.repository, (byDigest = new Map()));
    byDigest.set(key.digest, subject);
    this.count++;
  }

  get subjectCount(): number {
    return this.count;
  }

  get pairCount(): number {
    return num(this.opened?.db.prepare("SELECT count(*) AS n FROM pairs").get()?.["n"]);
  }

  subject(key: SubjectKey): Subject | undefined {
    return this.subjects.get(key.primary)?.get(key.repository)?.get(key.digest);
  }

  /** What the ledger says `mirror` holds for the subject's `suffix` tag. */
  pair(subject: Subject, mirror: string, suffix: Suffix): Pair | undefined {
    return this.pairsOf(subject).find((p) => p.mirror === mirror && p.suffix === suffix);
  }

  /** Read when asked: a warm run never does for a subject whose summary matches. */
  pairsOf(subject: Subject): Pair[] {
    const db = this.opened?.db;
    if (db === undefined) return [];
    return db
      .prepare(
        `SELECT p.host_id, p.suffix, ${digestText("d")} AS digest, p.verified_at, p.verified_at + p.due_in * 60 AS due_at
         FROM pairs p JOIN subject_tags t ON t.subject_id = p.subject_id AND t.suffix = p.suffix
         JOIN digests d ON d.id = t.digest_id WHERE p.subject_id = ?`,
      )
      .all(subject.id)
      .map((r) => ({
        mirror: this.hosts.byId.get(num(r["host_id"])) ?? "",
        suffix: suffixOf(num(r["suffix"])),
        digest: String(r["digest"]),
        verifiedAt: num(r["verified_at"]),
        dueAt: num(r["due_at"]),
      }));
  }

  /** The children of an index, [] for a plain manifest, undefined when never read. */
  children(digest: string): readonly string[] | undefined {
    return this.childrenOf.get(digest);
  }

  /** Every subject in the ledger (for explain and pruning). */
  *entries(): Generator<[SubjectKey, Subject]> {
    for (const byRepo of this.subjects.values()) {
      for (const byDigest of byRepo.values()) {
        for (const s of byDigest.values()) yield [s.key, s];
      }
    }
  }

  // Writes: queued, committed by flush(). A read-only ledger accepts and drops them,
  // so a dry run walks the same code path.

  putSubject(key: SubjectKey, update: SubjectUpdate): void {
    this.pending.push({ kind: "subject", key, update });
  }

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
          const id = this.apply(db, w);
          if (id !== undefined) touched.add(id);
        }
        for (const id of touched) this.summarise(db, id);
      }),
    );
  }
  private failed: Error | undefined;

  private asWriteError(err: unknown): Error {
    if (isSqliteError(err)) return writeError(this.path, err, "cannot write the ledger");
    return err instanceof Error ? err : new Error(String(err));
  }

  private intern(db: Database, table: "hosts" | "repositories", names: Names, name: string): number {
    const known = names.byName.get(name);
    if (known !== undefined) return known;
    db.prepare(`INSERT OR IGNORE INTO ${table} (name) VALUES (?)`).run(name);
    const id = num(db.prepare(`SELECT id FROM ${table} WHERE name = ?`).get(name)?.["id"]);
    names.add(id, name);
    return id;
  }

  private digestId(db: Database, digest: string): number {
    const known = this.digestIds.get(digest);
    if (known !== undefined) return known;
    const blob = digestToBlob(digest);
    const prefix = digestPrefix(blob);
    const found = db.prepare("SELECT id FROM digests WHERE prefix = ? AND value = ?").get(prefix, blob);
    const id = found !== undefined ? num(found["id"]) : db.prepare("INSERT INTO digests (value, prefix) VALUES (?, ?)").run(blob, prefix).lastInsertRowid;
    this.digestIds.set(digest, id);
    return id;
  }

  private subjectId(db: Database, key: SubjectKey): number | undefined {
    const known = this.subject(key)?.id ?? this.writtenIds.get(keyOf(key));
    if (known !== undefined) return known;
    const row = db
      .prepare("SELECT id FROM subjects WHERE host_id = ? AND repository_id = ? AND digest_id = ?")
      .get(
        this.intern(db, "hosts", this.hosts, key.primary),
        this.intern(db, "repositories", this.repositories, key.repository),
        this.digestId(db, key.digest),
      );
    return row === undefined ? undefined : num(row["id"]);
  }

  /** Applies one write; returns the subject whose pairs may have changed. */
  private apply(db: Database, w: Write): number | undefined {
    switch (w.kind) {
      case "subject": {
        const u = w.update;
        const hostId = this.intern(db, "hosts", this.hosts, w.key.primary);
        const repoId = this.intern(db, "repositories", this.repositories, w.key.repository);
        const digestId = this.digestId(db, w.key.digest);
        db.prepare(
          `INSERT INTO subjects (host_id, repository_id, digest_id, state, first_seen, signed_at, checked_at, due_at, families)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (host_id, repository_id, digest_id) DO UPDATE SET
             state = excluded.state, first_seen = excluded.first_seen, signed_at = excluded.signed_at,
             checked_at = excluded.checked_at, due_at = excluded.due_at, families = excluded.families`,
        ).run(hostId, repoId, digestId, STATES.indexOf(u.state), u.firstSeen, u.signedAt ?? null, u.checkedAt, u.dueAt, familiesMask(u.families ?? familiesOf(1)));
        const id = num(
          db.prepare("SELECT id FROM subjects WHERE host_id = ? AND repository_id = ? AND digest_id = ?").get(hostId, repoId, digestId)?.["id"],
        );
        this.writtenIds.set(keyOf(w.key), id);
        const before = new Map(
          db.prepare("SELECT suffix, digest_id FROM subject_tags WHERE subject_id = ?").all(id).map((r) => [num(r["suffix"]), num(r["digest_id"])]),
        );
        db.prepare("DELETE FROM subject_tags WHERE subject_id = ?").run(id);
        const after = new Map<number, number>();
        for (const [suffix, digest] of u.tags) {
          const code = suffixCode(suffix);
          const digestId = this.digestId(db, digest);
          after.set(code, digestId);
          db.prepare("INSERT INTO subject_tags (subject_id, suffix, digest_id) VALUES (?, ?, ?)").run(id, code, digestId);
        }
        // Pairs verified against another signature of this subject (or a tag now gone) no longer hold.
        for (const [code, digestId] of before) {
          if (after.get(code) !== digestId) db.prepare("DELETE FROM pairs WHERE subject_id = ? AND suffix = ?").run(id, code);
        }
        return id;
      }
      case "children": {
        const parent = this.digestId(db, w.digest);
        db.prepare("INSERT OR REPLACE INTO manifests_read (digest_id, is_index) VALUES (?, ?)").run(parent, w.isIndex ? 1 : 0);
        db.prepare("DELETE FROM children WHERE parent_id = ?").run(parent);
        w.children.forEach((child, position) => {
          db.prepare("INSERT INTO children (parent_id, position, child_id) VALUES (?, ?, ?)").run(parent, position, this.digestId(db, child));
        });
        return undefined;
      }
      case "pair": {
        const subjectId = this.subjectId(db, w.key);
        if (subjectId === undefined) throw new Error(`ledger: pair for unknown subject ${w.key.repository}@${w.key.digest}`);
        const code = suffixCode(w.suffix);
        const hostId = this.intern(db, "hosts", this.hosts, w.mirror);
        // Only a pair for the subject's current tag: one verified against a digest the tag has
        // since moved from says nothing, and is dropped rather than recorded.
        const tag = db.prepare("SELECT digest_id FROM subject_tags WHERE subject_id = ? AND suffix = ?").get(subjectId, code);
        if (tag === undefined || num(tag["digest_id"]) !== this.digestId(db, w.digest)) {
          db.prepare("DELETE FROM pairs WHERE subject_id = ? AND host_id = ? AND suffix = ?").run(subjectId, hostId, code);
          return subjectId;
        }
        db.prepare(
          `INSERT INTO pairs (subject_id, host_id, suffix, verified_at, due_in) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (subject_id, host_id, suffix) DO UPDATE SET verified_at = excluded.verified_at, due_in = excluded.due_in`,
        ).run(subjectId, hostId, code, w.verifiedAt, Math.max(0, Math.floor((w.dueAt - w.verifiedAt) / 60)));
        return subjectId;
      }
      case "unpair": {
        const subjectId = this.subjectId(db, w.key);
        const hostId = this.hosts.byName.get(w.mirror);
        if (subjectId === undefined || hostId === undefined) return undefined;
        db.prepare("DELETE FROM pairs WHERE subject_id = ? AND host_id = ? AND suffix = ?").run(subjectId, hostId, suffixCode(w.suffix));
        return subjectId;
      }
    }
  }

  /** Re-derives a subject's pair summary from its rows, in the flush's transaction. */
  private summarise(db: Database, subjectId: number): void {
    const rows = db.prepare("SELECT host_id, suffix, verified_at + due_in * 60 AS due_at FROM pairs WHERE subject_id = ?").all(subjectId);
    let due = 0;
    const pairs: [string, string][] = [];
    for (const r of rows) {
      pairs.push([this.hosts.byId.get(num(r["host_id"])) ?? "", suffixOf(num(r["suffix"]))]);
      const d = num(r["due_at"]);
      if (due === 0 || d < due) due = d;
    }
    db.prepare("UPDATE subjects SET pairs_key = ?, pairs_due = ? WHERE id = ?").run(pairsKey(pairs), due, subjectId);
  }

  /**
   * Forgets subjects no longer in any manifest, pairs of hosts no longer mirrors of their group,
   * and old run rows. Only after a run that saw every group (no filters). `live` maps the id of
   * each ledger subject still in the plan to its mirrors and the summary a fully replicated
   * subject has: only subjects whose summary differs have their pairs read.
   */
  prune(live: ReadonlyMap<number, { readonly mirrors: readonly string[]; readonly expectedKey: number }>, keepRunsSince: number): { subjects: number; pairs: number } {
    const db = this.opened?.db;
    if (!this.writable || db === undefined) return { subjects: 0, pairs: 0 };
    this.flush();
    let subjects = 0;
    let pairs = 0;
    this.write(() =>
      db.transaction(() => {
        for (const [, s] of this.entries()) {
          const l = live.get(s.id);
          if (l === undefined) {
            subjects += db.prepare("DELETE FROM subjects WHERE id = ?").run(s.id).changes;
            continue;
          }
          if (s.pairsKey === l.expectedKey || s.pairsKey === 0) continue;
          let changed = 0;
          for (const p of this.pairsOf(s)) {
            if (l.mirrors.includes(p.mirror)) continue;
            const hostId = this.hosts.byName.get(p.mirror);
            if (hostId === undefined) continue;
            changed += db.prepare("DELETE FROM pairs WHERE subject_id = ? AND host_id = ? AND suffix = ?").run(s.id, hostId, suffixCode(p.suffix)).changes;
          }
          if (changed > 0) this.summarise(db, s.id);
          pairs += changed;
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
