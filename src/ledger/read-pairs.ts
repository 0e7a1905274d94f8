// A subject's pairs as the file has them now, folded or not (settle.ts): read only when a run asks,
// which a warm run never does for a subject settled on its mirrors.
import { digestText, num, suffixOf, type Names } from "./codes.ts";
import type { MirrorSets } from "./settle.ts";
import type { Database } from "./sqlite.ts";
import type { Pair, ReferrerPair } from "./types.ts";

/** A folded subject's hosts and times; undefined when its pairs, if any, are rows. */
function folded(db: Database, hosts: Names, sets: MirrorSets, subjectId: number): { hosts: string[]; at: number; due: number } | undefined {
  const r = db.prepare("SELECT settled_set, settled_at, pairs_due FROM subjects WHERE id = ?").get(subjectId);
  const set = num(r?.["settled_set"]);
  if (r === undefined || set === 0) return undefined;
  return { hosts: sets.hostsOf(set).map((id) => hosts.byId.get(id) ?? ""), at: num(r["settled_at"]), due: num(r["pairs_due"]) };
}

/** Its (mirror, family tag) pairs, each for the tag's current digest. */
export function readTagPairs(db: Database, hosts: Names, sets: MirrorSets, subjectId: number): Pair[] {
  const f = folded(db, hosts, sets, subjectId);
  if (f !== undefined) {
    const tags = db.prepare(`SELECT suffix, ${digestText("digest")} AS digest FROM subject_tags WHERE subject_id = ?`).all(subjectId);
    return f.hosts.flatMap((mirror) =>
      tags.map((t) => ({ mirror, suffix: suffixOf(num(t["suffix"])), digest: String(t["digest"]), verifiedAt: f.at, dueAt: f.due })),
    );
  }
  return db
    .prepare(
      `SELECT p.host_id, p.suffix, ${digestText("t.digest")} AS digest, p.verified_at, p.verified_at + p.due_in * 60 AS due_at
       FROM pairs p JOIN subject_tags t ON t.subject_id = p.subject_id AND t.suffix = p.suffix WHERE p.subject_id = ?`,
    )
    .all(subjectId)
    .map((r) => ({
      mirror: hosts.byId.get(num(r["host_id"])) ?? "",
      suffix: suffixOf(num(r["suffix"])),
      digest: String(r["digest"]),
      verifiedAt: num(r["verified_at"]),
      dueAt: num(r["due_at"]),
    }));
}

/** Its (mirror, referrer) pairs: the mirror serves the referrer by digest and lists it. */
export function readReferrerPairs(db: Database, hosts: Names, sets: MirrorSets, subjectId: number): ReferrerPair[] {
  const f = folded(db, hosts, sets, subjectId);
  if (f !== undefined) {
    const refs = db.prepare(`SELECT ${digestText("digest")} AS digest FROM subject_referrers WHERE subject_id = ?`).all(subjectId);
    return f.hosts.flatMap((mirror) => refs.map((r) => ({ mirror, digest: String(r["digest"]), verifiedAt: f.at, dueAt: f.due })));
  }
  return db
    .prepare(`SELECT host_id, ${digestText("digest")} AS digest, verified_at, verified_at + due_in * 60 AS due_at FROM referrer_pairs WHERE subject_id = ?`)
    .all(subjectId)
    .map((r) => ({
      mirror: hosts.byId.get(num(r["host_id"])) ?? "",
      digest: String(r["digest"]),
      verifiedAt: num(r["verified_at"]),
      dueAt: num(r["due_at"]),
    }));
}
