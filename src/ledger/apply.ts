// Applies queued writes to the database, inside flush()'s transaction: names interned, digests
// found or added once, a subject's pair summary re-derived from its rows.
import { digestPrefix, digestToBlob } from "./digest.ts";
import { digestText, familiesMask, familiesOf, Names, num, STATES, suffixCode, suffixOf } from "./codes.ts";
import { pairsKey, refKey } from "./pairs-key.ts";
import type { Database } from "./sqlite.ts";
import { keyOf, type LedgerReferrer, type SubjectKey, type Write } from "./types.ts";

export class WriteApplier {
  /** Digest -> id, of those this run wrote: looked up in the file the first time. */
  private readonly digestIds = new Map<string, number>();
  /** Ids of subjects written since load, so pairs queued after them need no look-up. */
  private readonly writtenIds = new Map<string, number>();

  constructor(
    readonly hosts: Names,
    readonly repositories: Names,
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
  private putReferrers(db: Database, id: number, referrers: readonly LedgerReferrer[], looked: string): void {
    db.prepare("UPDATE subjects SET referrers_looked = ?, referrers_due = 0 WHERE id = ?").run(this.internSmall(db, "referrer_selections", "types", looked), id);
    db.prepare("DELETE FROM subject_referrers WHERE subject_id = ?").run(id);
    const keep = new Set<number>();
    for (const r of referrers) {
      const digestId = this.digestId(db, r.digest);
      keep.add(digestId);
      db.prepare("INSERT OR REPLACE INTO subject_referrers (subject_id, digest_id, of_digest_id, type_id) VALUES (?, ?, ?, ?)").run(
        id,
        digestId,
        this.digestId(db, r.of),
        this.internSmall(db, "artifact_types", "name", r.artifactType),
      );
    }
    for (const row of db.prepare("SELECT DISTINCT digest_id FROM referrer_pairs WHERE subject_id = ?").all(id)) {
      const d = num(row["digest_id"]);
      if (!keep.has(d)) db.prepare("DELETE FROM referrer_pairs WHERE subject_id = ? AND digest_id = ?").run(id, d);
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

  digestId(db: Database, digest: string): number {
    const known = this.digestIds.get(digest);
    if (known !== undefined) return known;
    const blob = digestToBlob(digest);
    const prefix = digestPrefix(blob);
    const found = db.prepare("SELECT id FROM digests WHERE prefix = ? AND value = ?").get(prefix, blob);
    const id = found !== undefined ? num(found["id"]) : db.prepare("INSERT INTO digests (value, prefix) VALUES (?, ?)").run(blob, prefix).lastInsertRowid;
    this.digestIds.set(digest, id);
    return id;
  }

  subjectId(db: Database, key: SubjectKey): number | undefined {
    const known = this.knownId(key) ?? this.writtenIds.get(keyOf(key));
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
  apply(db: Database, w: Write): number | undefined {
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
        if (u.referrers !== undefined && u.referrersLooked !== undefined) this.putReferrers(db, id, u.referrers, u.referrersLooked);
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
      case "refpair": {
        const subjectId = this.subjectId(db, w.key);
        if (subjectId === undefined) throw new Error(`ledger: referrer pair for unknown subject ${w.key.repository}@${w.key.digest}`);
        const hostId = this.intern(db, "hosts", this.hosts, w.mirror);
        const digestId = this.digestId(db, w.digest);
        // Only for a referrer the subject has now (its set may have changed in this very flush).
        if (db.prepare("SELECT 1 AS x FROM subject_referrers WHERE subject_id = ? AND digest_id = ?").get(subjectId, digestId) === undefined) return subjectId;
        db.prepare(
          `INSERT INTO referrer_pairs (subject_id, host_id, digest_id, verified_at, due_in) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (subject_id, host_id, digest_id) DO UPDATE SET verified_at = excluded.verified_at, due_in = excluded.due_in`,
        ).run(subjectId, hostId, digestId, w.verifiedAt, Math.max(0, Math.floor((w.dueAt - w.verifiedAt) / 60)));
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

  /** Re-derives a subject's pair summaries (tags and referrers) from its rows, in the flush's transaction. */
  summarise(db: Database, subjectId: number): void {
    const rows = db.prepare("SELECT host_id, suffix, verified_at + due_in * 60 AS due_at FROM pairs WHERE subject_id = ?").all(subjectId);
    let due = 0;
    const earliest = (d: number) => {
      if (due === 0 || d < due) due = d;
    };
    const pairs: [string, string][] = [];
    for (const r of rows) {
      pairs.push([this.hosts.byId.get(num(r["host_id"])) ?? "", suffixOf(num(r["suffix"]))]);
      earliest(num(r["due_at"]));
    }
    const refRows = db
      .prepare(
        `SELECT p.host_id, ${digestText("d")} AS digest, p.verified_at + p.due_in * 60 AS due_at
         FROM referrer_pairs p JOIN digests d ON d.id = p.digest_id WHERE p.subject_id = ?`,
      )
      .all(subjectId);
    const refs: [string, string][] = [];
    for (const r of refRows) {
      refs.push([this.hosts.byId.get(num(r["host_id"])) ?? "", String(r["digest"])]);
      earliest(num(r["due_at"]));
    }
    db.prepare("UPDATE subjects SET pairs_key = ?, ref_key = ?, pairs_due = ? WHERE id = ?").run(pairsKey(pairs), refKey(refs), due, subjectId);
  }
}
