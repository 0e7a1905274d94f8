// Reading a ledger whole when it opens (a run asks about every group): names, subjects with their
// tags, referrers and pair summaries, which digests were read and the children of indexes. No pair row.
import { digestText, familiesOf, noChildren, num, STATES, suffixOf, type Names, type Suffix } from "./codes.ts";
import { blobToDigest } from "./digest.ts";
import { DigestPool, FamilyTags, noFamilyTags, PooledReferrer } from "./family-tags.ts";
import type { MirrorSets } from "./settle.ts";
import type { Database, SqlValue } from "./sqlite.ts";
import type { LedgerReferrer, Subject } from "./types.ts";

export interface LoadTarget {
  readonly hosts: Names;
  readonly repositories: Names;
  readonly sets: MirrorSets;
  index(primary: string, repository: string, digest: string, subject: Subject): void;
  readonly childrenOf: Map<string, readonly string[]>;
}

/** Shared by every subject without referrers. */
const noReferrers: readonly LedgerReferrer[] = [];

export function loadLedger(db: Database, into: LoadTarget): void {
  for (const r of db.prepare("SELECT id, name FROM hosts").all()) into.hosts.add(num(r["id"]), String(r["name"]));
  for (const r of db.prepare("SELECT id, name FROM repositories").all()) into.repositories.add(num(r["id"]), String(r["name"]));
  into.sets.load(db);
  const pool = new DigestPool();
  const selections = new Map<number, string>(db.prepare("SELECT id, types FROM referrer_selections").all().map((r) => [num(r["id"]), String(r["types"])]));
  // Subjects first, their tags and referrers attached after: each subject's digest text is made
  // once, by SQLite, and is the one string its referrers' `of` shares. Rows come as arrays, by position.
  const loaded = new Map<number, Loading>();
  const subjects = db.prepare(
    `SELECT id, host_id, repository_id, ${digestText("digest")}, state, first_seen, signed_at, checked_at,
            due_at, families, pairs_due, settled_set, referrers_looked, referrers_due, manifest
     FROM subjects`,
  );
  for (const r of subjects.iterateArrays()) {
    const id = num(r[0]);
    const digest = String(r[3]);
    const s: Loading = {
      id,
      state: STATES[num(r[4])] ?? "missing",
      firstSeen: num(r[5]),
      signedAt: r[6] === null ? undefined : num(r[6]),
      checkedAt: num(r[7]),
      dueAt: num(r[8]),
      tags: noFamilyTags,
      pairsDue: num(r[10]),
      settledOn: num(r[11]),
      families: familiesOf(num(r[9])),
      referrers: noReferrers,
      referrersLooked: selections.get(num(r[12])),
      referrersDue: num(r[13]),
      digest,
    };
    loaded.set(id, s);
    if (num(r[14]) === 1) into.childrenOf.set(digest, noChildren);
    into.index(into.hosts.byId.get(num(r[1])) ?? "", into.repositories.byId.get(num(r[2])) ?? "", digest, s);
  }
  for (const r of db.prepare("SELECT subject_id, suffix, digest FROM subject_tags").iterateArrays()) {
    const s = loaded.get(num(r[0]));
    if (s === undefined || !(r[2] instanceof Uint8Array)) continue;
    if (s.tags === noFamilyTags) s.tags = new FamilyTags(pool);
    (s.tags as FamilyTags).put(suffixOf(num(r[1])), pool.add(r[2]));
  }
  const types = new Map<number, string>(db.prepare("SELECT id, name FROM artifact_types").all().map((r) => [num(r["id"]), String(r["name"])]));
  // A referrer's `of` is NULL when it is the subject itself.
  for (const r of db.prepare(`SELECT subject_id, digest, ${digestText("of_digest")}, type_id FROM subject_referrers`).iterateArrays()) {
    const s = loaded.get(num(r[0]));
    if (s === undefined || !(r[1] instanceof Uint8Array)) continue;
    const referrer = new PooledReferrer(pool, pool.add(r[1]), r[2] === null ? s.digest : String(r[2]), types.get(num(r[3])) ?? "");
    if (s.referrers === noReferrers) s.referrers = [referrer];
    else (s.referrers as LedgerReferrer[]).push(referrer);
  }
  for (const r of db.prepare(`SELECT ${digestText("digest")}, children FROM manifests_read`).iterateArrays()) {
    into.childrenOf.set(String(r[0]), childrenOf(r[1] ?? null));
  }
}

/** A subject being loaded: its tags and referrers attached after its row. */
interface Loading extends Subject {
  tags: ReadonlyMap<Suffix, string>;
  referrers: readonly LedgerReferrer[];
  /** Its digest text, for its referrers' `of`. */
  readonly digest: string;
}

/** An index's children as apply.ts stores them: 32 bytes each, or their texts by line. */
function childrenOf(value: SqlValue): readonly string[] {
  if (value === null) return noChildren;
  if (typeof value === "string") return value === "" ? [] : value.split("\n");
  if (!(value instanceof Uint8Array)) return noChildren;
  const out: string[] = [];
  for (let i = 0; i + 32 <= value.length; i += 32) out.push(blobToDigest(value.subarray(i, i + 32)));
  return out;
}
