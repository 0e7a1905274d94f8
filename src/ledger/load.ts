// Reading a ledger whole when it opens (a run asks about every group): names, subjects with their
// tags, referrers and pair summaries, which digests were read and the children of indexes. No pair row.
import { digestText, familiesOf, noChildren, num, STATES, suffixOf, type Names, type Suffix } from "./codes.ts";
import type { Database } from "./sqlite.ts";
import type { LedgerReferrer, Subject, SubjectKey } from "./types.ts";

export interface LoadTarget {
  readonly hosts: Names;
  readonly repositories: Names;
  index(key: SubjectKey, subject: Subject): void;
  readonly childrenOf: Map<string, readonly string[]>;
}

/** Shared by every subject without referrers. */
const noReferrers: readonly LedgerReferrer[] = [];

export function loadLedger(db: Database, into: LoadTarget): void {
  for (const r of db.prepare("SELECT id, name FROM hosts").all()) into.hosts.add(num(r["id"]), String(r["name"]));
  for (const r of db.prepare("SELECT id, name FROM repositories").all()) into.repositories.add(num(r["id"]), String(r["name"]));
  // Digests come joined in, as text made by SQLite: no table of every digest (92,000 at k8s
  // scale) is held here, and no blob buffer is made per digest. The write path looks them up.
  const tags = new Map<number, Map<Suffix, string>>();
  for (const r of db.prepare(`SELECT t.subject_id, t.suffix, ${digestText("d")} AS digest FROM subject_tags t JOIN digests d ON d.id = t.digest_id`).all()) {
    const id = num(r["subject_id"]);
    let m = tags.get(id);
    if (m === undefined) tags.set(id, (m = new Map()));
    m.set(suffixOf(num(r["suffix"])), String(r["digest"]));
  }
  const referrers = new Map<number, LedgerReferrer[]>();
  const types = new Map<number, string>(db.prepare("SELECT id, name FROM artifact_types").all().map((r) => [num(r["id"]), String(r["name"])]));
  const refRows = db
    .prepare(
      `SELECT r.subject_id, ${digestText("d")} AS digest, ${digestText("o")} AS of, r.type_id FROM subject_referrers r
       JOIN digests d ON d.id = r.digest_id JOIN digests o ON o.id = r.of_digest_id`,
    )
    .all();
  for (const r of refRows) {
    const id = num(r["subject_id"]);
    let list = referrers.get(id);
    if (list === undefined) referrers.set(id, (list = []));
    list.push({ digest: String(r["digest"]), of: String(r["of"]), artifactType: types.get(num(r["type_id"])) ?? "" });
  }
  const selections = new Map<number, string>(db.prepare("SELECT id, types FROM referrer_selections").all().map((r) => [num(r["id"]), String(r["types"])]));
  const rows = db
    .prepare(
      `SELECT s.id, s.host_id, s.repository_id, ${digestText("d")} AS digest, s.state, s.first_seen, s.signed_at, s.checked_at,
              s.due_at, s.families, s.pairs_key, s.pairs_due, s.ref_key, s.referrers_looked, s.referrers_due
       FROM subjects s JOIN digests d ON d.id = s.digest_id`,
    )
    .all();
  for (const r of rows) {
    const id = num(r["id"]);
    const key: SubjectKey = {
      primary: into.hosts.byId.get(num(r["host_id"])) ?? "",
      repository: into.repositories.byId.get(num(r["repository_id"])) ?? "",
      digest: String(r["digest"]),
    };
    into.index(key, {
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
      referrers: referrers.get(id) ?? noReferrers,
      refKey: num(r["ref_key"]),
      referrersLooked: selections.get(num(r["referrers_looked"])),
      referrersDue: num(r["referrers_due"]),
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
  for (const [digest, index] of isIndex) into.childrenOf.set(digest, index ? (kids.get(digest) ?? noChildren) : noChildren);
}
