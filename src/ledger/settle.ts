// A subject's pairs folded into its row: when every host of a set holds every tag and every
// referrer of the subject (the settled case, 40 pairs per digest at k8s scale), the ledger stores
// the set's id and two times instead of a row per pair. Unfolded into rows before any write that
// touches them, folded again after: the rows stay the one truth the writes work on.
import { dueInMinutes, num } from "./codes.ts";
import type { Database } from "./sqlite.ts";

/** Mirror sets, interned by their sorted host ids: few (one per distinct mirror list). */
export class MirrorSets {
  private readonly byKey = new Map<string, number>();
  private readonly byId = new Map<number, readonly number[]>();

  /** Every stored set, read at open. */
  load(db: Database): void {
    for (const r of db.prepare("SELECT id, hosts FROM mirror_sets").all()) this.remember(num(r["id"]), String(r["hosts"]));
  }

  private remember(id: number, key: string): void {
    this.byKey.set(key, id);
    this.byId.set(id, key === "" ? [] : key.split(",").map(Number));
  }

  /** The set's host ids, [] for an unknown id. */
  hostsOf(id: number): readonly number[] {
    return this.byId.get(id) ?? [];
  }

  /** The id of the set of `hostIds` (sorted here), stored on first use. */
  intern(db: Database, hostIds: readonly number[]): number {
    const key = [...hostIds].sort((a, b) => a - b).join(",");
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const id = db.prepare("INSERT INTO mirror_sets (hosts) VALUES (?)").run(key).lastInsertRowid;
    for (const h of new Set(hostIds)) db.prepare("INSERT INTO mirror_set_hosts (set_id, host_id) VALUES (?, ?)").run(id, h);
    this.remember(id, key);
    return id;
  }

  /** The id of a set already stored, by host id; undefined when no subject was ever settled on it. */
  find(hostIds: readonly number[]): number | undefined {
    return this.byKey.get([...hostIds].sort((a, b) => a - b).join(","));
  }
}

/** Writes a folded subject's pairs back as rows (a no-op for one that is not folded). */
export function unfold(db: Database, sets: MirrorSets, subjectId: number): void {
  const row = db.prepare("SELECT settled_set, settled_at, pairs_due FROM subjects WHERE id = ?").get(subjectId);
  const set = num(row?.["settled_set"]);
  if (row === undefined || set === 0) return;
  const at = num(row["settled_at"]);
  const dueIn = dueInMinutes(at, num(row["pairs_due"]));
  const suffixes = db.prepare("SELECT suffix FROM subject_tags WHERE subject_id = ?").all(subjectId).map((r) => num(r["suffix"]));
  const referrers = db.prepare("SELECT digest FROM subject_referrers WHERE subject_id = ?").all(subjectId).map((r) => r["digest"] ?? null);
  for (const host of sets.hostsOf(set)) {
    for (const s of suffixes) {
      db.prepare("INSERT OR REPLACE INTO pairs (subject_id, host_id, suffix, verified_at, due_in) VALUES (?, ?, ?, ?, ?)").run(subjectId, host, s, at, dueIn);
    }
    for (const d of referrers) {
      db.prepare("INSERT OR REPLACE INTO referrer_pairs (subject_id, host_id, digest, verified_at, due_in) VALUES (?, ?, ?, ?, ?)").run(subjectId, host, d, at, dueIn);
    }
  }
  db.prepare("UPDATE subjects SET settled_set = 0, settled_at = 0 WHERE id = ?").run(subjectId);
}

/**
 * Re-derives a subject's summary from its rows: the earliest due time, and when the rows are the
 * full product of their hosts and the subject's tags and referrers, folds them into the row.
 * Folded, every pair takes the earliest verification and due time of them all: a pair re-checked
 * early costs a request, never a wrong answer (and the engine gives a subject's pairs verified
 * together one due time, so they rarely differ).
 */
export function fold(db: Database, sets: MirrorSets, subjectId: number): void {
  const rows = db.prepare("SELECT host_id, verified_at, verified_at + due_in * 60 AS due_at FROM pairs WHERE subject_id = ?").all(subjectId);
  const refRows = db.prepare("SELECT host_id, verified_at, verified_at + due_in * 60 AS due_at FROM referrer_pairs WHERE subject_id = ?").all(subjectId);
  let due = 0;
  let at = 0;
  const perHost = new Map<number, number>();
  for (const r of [...rows, ...refRows]) {
    const d = num(r["due_at"]);
    const v = num(r["verified_at"]);
    if (due === 0 || d < due) due = d;
    if (at === 0 || v < at) at = v;
    const h = num(r["host_id"]);
    perHost.set(h, (perHost.get(h) ?? 0) + 1);
  }
  const tags = num(db.prepare("SELECT count(*) AS n FROM subject_tags WHERE subject_id = ?").get(subjectId)?.["n"]);
  const referrers = num(db.prepare("SELECT count(*) AS n FROM subject_referrers WHERE subject_id = ?").get(subjectId)?.["n"]);
  // Rows exist only for current tags and referrers (writes drop the others), one per (host, item):
  // a host with as many rows as items holds them all.
  const full = perHost.size > 0 && [...perHost.values()].every((n) => n === tags + referrers);
  if (!full) {
    db.prepare("UPDATE subjects SET pairs_due = ?, settled_set = 0, settled_at = 0 WHERE id = ?").run(due, subjectId);
    return;
  }
  const set = sets.intern(db, [...perHost.keys()]);
  db.prepare("DELETE FROM pairs WHERE subject_id = ?").run(subjectId);
  db.prepare("DELETE FROM referrer_pairs WHERE subject_id = ?").run(subjectId);
  db.prepare("UPDATE subjects SET pairs_due = ?, settled_set = ?, settled_at = ? WHERE id = ?").run(due, set, at, subjectId);
}
