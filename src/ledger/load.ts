// Reading a ledger whole when it opens (a run asks about every group): names, subjects with their
// tags, referrers and pair summaries, which digests were read and the children of indexes. No pair row.
import { digestText, familiesOf, noChildren, num, STATES, suffixOf, type Names, type Suffix } from "./codes.ts";
import type { MirrorSets } from "./settle.ts";
import type { Database, SqlValue } from "./sqlite.ts";
import type { LedgerReferrer, Subject, SubjectKey } from "./types.ts";

export interface LoadTarget {
  readonly hosts: Names;
  readonly repositories: Names;
  readonly sets: MirrorSets;
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
  into.sets.load(db);
  for (const r of db.prepare(`SELECT subject_id, suffix, ${digestText("digest")} AS digest FROM subject_tags`).iterate()) {
    const id = num(r["subject_id"]);
    let m = tags.get(id);
    if (m === undefined) tags.set(id, (m = new Map()));
    m.set(suffixOf(num(r["suffix"])), String(r["digest"]));
  }
  // A referrer's `of` is NULL when it is the subject itself: filled in with the subject's own string.
  const referrers = new Map<number, { digest: string; of: string | undefined; artifactType: string }[]>();
  const types = new Map<number, string>(db.prepare("SELECT id, name FROM artifact_types").all().map((r) => [num(r["id"]), String(r["name"])]));
  const refRows = db
    .prepare(`SELECT subject_id, ${digestText("digest")} AS digest, ${digestText("of_digest")} AS of, type_id FROM subject_referrers`)
    .iterate();
  for (const r of refRows) {
    const id = num(r["subject_id"]);
    let list = referrers.get(id);
    if (list === undefined) referrers.set(id, (list = []));
    const of = r["of"];
    list.push({ digest: String(r["digest"]), of: of === null || of === undefined ? undefined : String(of), artifactType: types.get(num(r["type_id"])) ?? "" });
  }
  const selections = new Map<number, string>(db.prepare("SELECT id, types FROM referrer_selections").all().map((r) => [num(r["id"]), String(r["types"])]));
  const rows = db
    .prepare(
      `SELECT id, host_id, repository_id, ${digestText("digest")} AS digest, state, first_seen, signed_at, checked_at,
              due_at, families, pairs_due, settled_set, referrers_looked, referrers_due, manifest
       FROM subjects`,
    )
    .iterate();
  for (const r of rows) {
    const id = num(r["id"]);
    const key: SubjectKey = {
      primary: into.hosts.byId.get(num(r["host_id"])) ?? "",
      repository: into.repositories.byId.get(num(r["repository_id"])) ?? "",
      digest: String(r["digest"]),
    };
    const refs = referrers.get(id);
    if (num(r["manifest"]) === 1) into.childrenOf.set(key.digest, noChildren);
    into.index(key, {
      id,
      key,
      state: STATES[num(r["state"])] ?? "missing",
      firstSeen: num(r["first_seen"]),
      signedAt: r["signed_at"] === null ? undefined : num(r["signed_at"]),
      checkedAt: num(r["checked_at"]),
      dueAt: num(r["due_at"]),
      tags: tags.get(id) ?? new Map(),
      pairsDue: num(r["pairs_due"]),
      settledOn: num(r["settled_set"]),
      families: familiesOf(num(r["families"])),
      referrers: refs === undefined ? noReferrers : refs.map((x): LedgerReferrer => ({ digest: x.digest, of: x.of ?? key.digest, artifactType: x.artifactType })),
      referrersLooked: selections.get(num(r["referrers_looked"])),
      referrersDue: num(r["referrers_due"]),
    });
  }
  for (const r of db.prepare(`SELECT ${digestText("digest")} AS digest, children FROM manifests_read`).iterate()) {
    into.childrenOf.set(String(r["digest"]), childrenOf(r["children"] ?? null));
  }
}

/** An index's children as apply.ts stores them: 32 bytes each, or their texts by line. */
function childrenOf(value: SqlValue): readonly string[] {
  if (value === null) return noChildren;
  if (typeof value === "string") return value === "" ? [] : value.split("\n");
  if (!(value instanceof Uint8Array)) return noChildren;
  const out: string[] = [];
  for (let i = 0; i + 32 <= value.length; i += 32) out.push(`sha256:${Buffer.from(value.subarray(i, i + 32)).toString("hex")}`);
  return out;
}
