// Applies queued writes to the database, inside flush()'s transaction: names interned, digests
// stored where used, a subject's pairs unfolded before a write touches them and folded again by
// summarise() (settle.ts).
import { digestToBlob, SHA256 } from "./digest.ts";
import { digestText, dueInMinutes, familiesMask, familiesOf, Names, num, STATES, suffixCode } from "./codes.ts";
import { fold, MirrorSets, unfold } from "./settle.ts";
import type { Database } from "./sqlite.ts";
import { keyOf, type LedgerReferrer, type SubjectKey, type Write } from "./types.ts";

export class WriteApplier {
  /** Ids of subjects written since load, so pairs queued after them need no look-up. */
  private readonly writtenIds = new Map<string, number>();
  /** Subjects unfolded in this flush: their rows are the truth until summarise() folds them. */
  private readonly unfolded = new Set<number>();

  constructor(
    readonly hosts: Names,
    readonly repositories: Names,
    readonly sets: MirrorSets,
    /** The id of a subject the ledger loaded, if it did. */
    private readonly knownId: (key: SubjectKey) => number | undefined,
  ) {}

  /** Artifact types and referrer selections: few, interned by name. */
  private readonly small = new Map<string, number>();

  private internSmall(db: Database, table: "artifact_types" | "referrer_selections", column: "name" | "types", name: string): number {
    const k = `${table}\n${name}`;
    const known = this.small.get(k);
    if (known !== undefined) return known;
    db.prepare(`INSERT OR IGNORE INTO ${table} (${column}) VALUES (?)`).run(name);
    const id = num(db.prepare(`SELECT id FROM ${table} WHERE ${column} = ?`).get(name)?.["id"]);
    this.small.set(k, id);
    return id;
  }

  /** Replaces a subject's referrer set; pairs of referrers no longer in it no longer hold. */
  private putReferrers(db: Database, id: number, subject: string, referrers: readonly LedgerReferrer[], looked: string): void {
    db.prepare("UPDATE subjects SET referrers_looked = ?, referrers_due = 0 WHERE id = ?").run(this.internSmall(db, "referrer_selections", "types", looked), id);
    db.prepare("DELETE FROM subject_referrers WHERE subject_id = ?").run(id);
    const keep = new Set<string>();
    for (const r of referrers) {
      keep.add(r.digest);
      db.prepare("INSERT OR REPLACE INTO subject_referrers (subject_id, digest, of_digest, type_id) VALUES (?, ?, ?, ?)").run(
        id,
        digestToBlob(r.digest),
        r.of === subject ? null : digestToBlob(r.of),
        this.internSmall(db, "artifact_types", "name", r.artifactType),
      );
    }
    for (const row of db.prepare(`SELECT DISTINCT ${digestText("digest")} AS d, digest FROM referrer_pairs WHERE subject_id = ?`).all(id)) {
      if (!keep.has(String(row["d"]))) db.prepare("DELETE FROM referrer_pairs WHERE subject_id = ? AND digest = ?").run(id, row["digest"] ?? null);
    }
  }

  intern(db: Database, table: "hosts" | "repositories", names: Names, name: string): number {
    const known = names.byName.get(name);
    if (known !== undefined) return known;
    db.prepare(`INSERT OR IGNORE INTO ${table} (name) VALUES (?)`).run(name);
    const id = num(db.prepare(`SELECT id FROM ${table} WHERE name = ?`).get(name)?.["id"]);
    names.add(id, name);
    return id;
  }

  /**
   * The subject's id, its pairs unfolded into rows for this flush; undefined for one neither loaded
   * nor written by this run, which is new: under the run lock no one else adds subjects.
   */
  private subjectId(key: SubjectKey, db: Database): number | undefined {
    const id = this.knownId(key) ?? this.writtenIds.get(keyOf(key));
    if (id !== undefined) this.unfoldOnce(db, id);
    return id;
  }

  private unfoldOnce(db: Database, id: number): void {
    if (this.unfolded.has(id)) return;
    unfold(db, this.sets, id);
    this.unfolded.add(id);
  }

  /** Applies one write; returns the subject whose pairs may have changed. */
  apply(db: Database, w: Write): number | undefined {
    switch (w.kind) {
      case "subject": {
        const u = w.update;
        const hostId = this.intern(db, "hosts", this.hosts, w.key.primary);
        const repoId = this.intern(db, "repositories", this.repositories, w.key.repository);
        let id = this.subjectId(w.key, db);
        const values = [STATES.indexOf(u.state), u.firstSeen, u.signedAt ?? null, u.checkedAt, u.dueAt, familiesMask(u.families ?? familiesOf(1)), w.manifest];
        if (id === undefined) {
          id = db
            .prepare(
              `INSERT INTO subjects (host_id, repository_id, digest, state, first_seen, signed_at, checked_at, due_at, families, manifest)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(hostId, repoId, digestToBlob(w.key.digest), ...values).lastInsertRowid;
          this.unfolded.add(id);
        } else {
          db.prepare(
            "UPDATE subjects SET state = ?, first_seen = ?, signed_at = ?, checked_at = ?, due_at = ?, families = ?, manifest = max(manifest, ?) WHERE id = ?",
          ).run(...values, id);
        }
        this.writtenIds.set(keyOf(w.key), id);
        const before = new Map(
          db.prepare(`SELECT suffix, ${digestText("digest")} AS d FROM subject_tags WHERE subject_id = ?`).all(id).map((r) => [num(r["suffix"]), String(r["d"])]),
        );
        db.prepare("DELETE FROM subject_tags WHERE subject_id = ?").run(id);
        const after = new Map<number, string>();
        for (const [suffix, digest] of u.tags) {
          const code = suffixCode(suffix);
          after.set(code, digest);
          db.prepare("INSERT INTO subject_tags (subject_id, suffix, digest) VALUES (?, ?, ?)").run(id, code, digestToBlob(digest));
        }
        // Pairs verified against another signature of this subject (or a tag now gone) no longer hold.
        for (const [code, digest] of before) {
          if (after.get(code) !== digest) db.prepare("DELETE FROM pairs WHERE subject_id = ? AND suffix = ?").run(id, code);
        }
        if (u.referrers !== undefined && u.referrersLooked !== undefined) this.putReferrers(db, id, w.key.digest, u.referrers, u.referrersLooked);
        return id;
      }
      case "children": {
        // A plain manifest is recorded on its subject's row by the subject's write.
        if (w.isIndex) db.prepare("INSERT OR REPLACE INTO manifests_read (digest, children) VALUES (?, ?)").run(digestToBlob(w.digest), childrenValue(w.children));
        return undefined;
      }
      case "pair": {
        const subjectId = this.subjectId(w.key, db);
        if (subjectId === undefined) throw new Error(`ledger: pair for unknown subject ${w.key.repository}@${w.key.digest}`);
        const code = suffixCode(w.suffix);
        const hostId = this.intern(db, "hosts", this.hosts, w.mirror);
        // Only a pair for the subject's current tag: one verified against a digest the tag has
        // since moved from says nothing, and is dropped rather than recorded.
        const tag = db.prepare(`SELECT ${digestText("digest")} AS d FROM subject_tags WHERE subject_id = ? AND suffix = ?`).get(subjectId, code);
        if (tag === undefined || String(tag["d"]) !== w.digest) {
          db.prepare("DELETE FROM pairs WHERE subject_id = ? AND host_id = ? AND suffix = ?").run(subjectId, hostId, code);
          return subjectId;
        }
        db.prepare(
          `INSERT INTO pairs (subject_id, host_id, suffix, verified_at, due_in) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (subject_id, host_id, suffix) DO UPDATE SET verified_at = excluded.verified_at, due_in = excluded.due_in`,
        ).run(subjectId, hostId, code, w.verifiedAt, dueInMinutes(w.verifiedAt, w.dueAt));
        return subjectId;
      }
      case "refpair": {
        const subjectId = this.subjectId(w.key, db);
        if (subjectId === undefined) throw new Error(`ledger: referrer pair for unknown subject ${w.key.repository}@${w.key.digest}`);
        const hostId = this.intern(db, "hosts", this.hosts, w.mirror);
        const digest = digestToBlob(w.digest);
        // Only for a referrer the subject has now (its set may have changed in this very flush).
        if (db.prepare("SELECT 1 AS x FROM subject_referrers WHERE subject_id = ? AND digest = ?").get(subjectId, digest) === undefined) return subjectId;
        db.prepare(
          `INSERT INTO referrer_pairs (subject_id, host_id, digest, verified_at, due_in) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (subject_id, host_id, digest) DO UPDATE SET verified_at = excluded.verified_at, due_in = excluded.due_in`,
        ).run(subjectId, hostId, digest, w.verifiedAt, dueInMinutes(w.verifiedAt, w.dueAt));
        return subjectId;
      }
      case "unpair": {
        const hostId = this.hosts.byName.get(w.mirror);
        const subjectId = hostId === undefined ? undefined : this.subjectId(w.key, db);
        if (subjectId === undefined || hostId === undefined) return undefined;
        db.prepare("DELETE FROM pairs WHERE subject_id = ? AND host_id = ? AND suffix = ?").run(subjectId, hostId, suffixCode(w.suffix));
        return subjectId;
      }
    }
  }

  /** Re-derives a subject's pair summary from its rows and folds them when it can (settle.ts). */
  summarise(db: Database, subjectId: number): void {
    fold(db, this.sets, subjectId);
    this.unfolded.delete(subjectId);
  }

  /** Unfolds a subject's pairs outside a write (pruning deletes some of its rows). */
  unfoldForPrune(db: Database, subjectId: number): void {
    this.unfoldOnce(db, subjectId);
  }
}

/** An index's children as stored: 32 bytes each when all are sha256, else their texts by line. */
function childrenValue(children: readonly string[]): Uint8Array | string {
  if (children.every((c) => SHA256.test(c))) {
    const blobs = children.map(digestToBlob);
    const out = new Uint8Array(32 * blobs.length);
    blobs.forEach((b, i) => out.set(b, 32 * i));
    return out;
  }
  return children.join("\n");
}
