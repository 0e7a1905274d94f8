// node:test + node:assert: runs under `bun test` and `deno test`.
// Older ledgers migrated in place. Version 1 (before referrers): its tag knowledge kept, its
// subjects' first referrer lookups spread over one re-verify window rather than all due at once.
// Version 2 (a digests table, a row per pair): every fact kept, settled subjects' pairs folded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestToBlob } from "./digest.ts";
import { explain, ledgerStats } from "./inspect.ts";
import { Ledger } from "./ledger.ts";
import { APPLICATION_ID, migrations, SCHEMA_VERSION } from "./schema.ts";
import { openDatabase, type Database } from "./sqlite.ts";

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

function tmp() {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-migrate-"));
  return { dir, path: join(dir, "state.db"), [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A ledger as a released binary of schema `version` left it: its migrations only, rows written by SQL. */
function oldLedger(path: string, version: number, rows: (db: Database, digest: (text: string) => number) => void): void {
  const db = openDatabase(path);
  for (let v = 0; v < version; v++) db.exec(migrations[v] ?? "");
  db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
  db.exec(`PRAGMA user_version = ${version}`);
  const ids = new Map<string, number>();
  const digest = (text: string): number => {
    let id = ids.get(text);
    if (id === undefined) {
      id = db.prepare("INSERT INTO digests (value, prefix) VALUES (?, ?)").run(digestToBlob(text), ids.size).lastInsertRowid;
      ids.set(text, id);
    }
    return id;
  };
  db.transaction(() => {
    db.exec("INSERT INTO hosts (id, name) VALUES (1, 'p:5000'), (2, 'm1:5000'), (3, 'm2:5000'); INSERT INTO repositories (id, name) VALUES (1, 'prod/app')");
    rows(db, digest);
  });
  db.close();
}

test("a version-1 ledger is migrated in place: tags and pairs kept, referrer lookups spread over 24h", () => {
  using t = tmp();
  const subjects = 200;
  oldLedger(t.path, 1, (db, digest) => {
    for (let i = 1; i <= subjects; i++) {
      db.prepare("INSERT INTO subjects (id, host_id, repository_id, digest_id, state, first_seen, signed_at, checked_at, due_at) VALUES (?, 1, 1, ?, 2, 1, 1, 1, 2)").run(
        i,
        digest(d(i.toString(16).padStart(2, "0"))),
      );
      db.prepare("INSERT INTO subject_tags (subject_id, suffix, digest_id) VALUES (?, 0, ?)").run(i, digest(d("f")));
      db.prepare("INSERT INTO pairs (subject_id, host_id, suffix, verified_at, due_in) VALUES (?, 2, 0, 60, 1)").run(i);
    }
  });
  const before = Math.floor(Date.now() / 1000);
  const b = Ledger.openForRun(t.path);
  const after = Math.floor(Date.now() / 1000);
  const all = [...b.entries()].map(([, s]) => s);
  assert.equal(all.length, subjects);
  for (const s of all) {
    assert.equal(s.tags.get("sig"), d("f"));
    assert.equal(s.referrersLooked, undefined);
    assert.ok(s.referrersDue >= before && s.referrersDue < after + 86_400, `${s.referrersDue}`);
    assert.deepEqual(b.pairsOf(s), [{ mirror: "m1:5000", suffix: "sig", digest: d("f"), verifiedAt: 60, dueAt: 120 }]);
  }
  // Spread, not bunched: 200 draws over 24h land in more than half of the 24 hours.
  const hours = new Set(all.map((s) => Math.floor((s.referrersDue - before) / 3600)));
  assert.ok(hours.size > 12, `${hours.size} distinct hours`);
  b.close();
  const version = openDatabase(t.path, { readOnly: true }).prepare("PRAGMA user_version").get()?.["user_version"];
  assert.equal(Number(version), SCHEMA_VERSION);
});

test("a version-2 ledger keeps every fact; a settled subject's pairs fold into its row, a partial one's stay rows", () => {
  using t = tmp();
  const att = "application/vnd.in-toto+json";
  oldLedger(t.path, 2, (db, digest) => {
    db.exec(`INSERT INTO artifact_types (id, name) VALUES (1, '${att}'); INSERT INTO referrer_selections (id, types) VALUES (1, 'all')`);
    // Subject 1: an index signed, attested (with a signature of the attestation, depth 2), on both
    // mirrors entirely. Subject 2: signed, on m1 only, and m2 holds its .sig but not its .att.
    for (const [id, c] of [[1, "a"], [2, "b"]] as const) {
      db.prepare(
        "INSERT INTO subjects (id, host_id, repository_id, digest_id, state, first_seen, signed_at, checked_at, due_at, families, referrers_looked) VALUES (?, 1, 1, ?, 2, 10, 11, 12, 13, 3, 1)",
      ).run(id, digest(d(c)));
      db.prepare("INSERT INTO subject_tags (subject_id, suffix, digest_id) VALUES (?, 0, ?), (?, 1, ?)").run(id, digest(d(`${c}1`)), id, digest(d(`${c}2`)));
    }
    db.prepare("INSERT INTO subject_referrers VALUES (1, ?, ?, 1), (1, ?, ?, 1)").run(digest(d("r")), digest(d("a")), digest(d("s")), digest(d("r")));
    for (const host of [2, 3]) {
      for (const suffix of [0, 1]) db.prepare("INSERT INTO pairs VALUES (1, ?, ?, 600, 100)").run(host, suffix);
      for (const r of ["r", "s"]) db.prepare("INSERT INTO referrer_pairs VALUES (1, ?, ?, 660, 90)").run(host, digest(d(r)));
    }
    db.prepare("INSERT INTO pairs VALUES (2, 2, 0, 600, 100), (2, 2, 1, 600, 100), (2, 3, 0, 600, 100)").run();
    db.prepare("INSERT INTO manifests_read (digest_id, is_index) VALUES (?, 1), (?, 0)").run(digest(d("a")), digest(d("b")));
    db.prepare("INSERT INTO children VALUES (?, 0, ?), (?, 1, ?)").run(digest(d("a")), digest(d("c")), digest(d("a")), digest(d("e")));
  });
  const l = Ledger.openForRun(t.path);
  try {
    const [a, b] = [d("a"), d("b")].map((digest) => l.subject({ primary: "p:5000", repository: "prod/app", digest }));
    assert.ok(a !== undefined && b !== undefined);
    assert.deepEqual([...a.tags], [["sig", d("a1")], ["att", d("a2")]]);
    assert.deepEqual(a.referrers.map((r) => ({ digest: r.digest, of: r.of, artifactType: r.artifactType })), [{ digest: d("r"), of: d("a"), artifactType: att }, { digest: d("s"), of: d("r"), artifactType: att }]);
    assert.equal(a.referrersLooked, "all");
    assert.deepEqual(l.children(d("a")), [d("c"), d("e")]);
    assert.deepEqual(l.children(d("b")), []);
    // Folded: one set, the earliest verification and due time of its pairs.
    assert.equal(a.settledOn, l.mirrorSet(["m1:5000", "m2:5000"]));
    assert.notEqual(a.settledOn, 0);
    assert.equal(a.pairsDue, 660 + 90 * 60);
    const tagPairs = l.pairsOf(a).map((p) => `${p.mirror} ${p.suffix} ${p.verifiedAt} ${p.dueAt}`).sort();
    assert.deepEqual(tagPairs, ["m1:5000 att 600 6060", "m1:5000 sig 600 6060", "m2:5000 att 600 6060", "m2:5000 sig 600 6060"]);
    assert.equal(l.referrerPairsOf(a).length, 4);
    // Not the full product: rows, and a warm run reads them.
    assert.equal(b.settledOn, 0);
    assert.equal(b.pairsDue, 600 + 100 * 60);
    assert.deepEqual(l.pairsOf(b).map((p) => `${p.mirror} ${p.suffix}`).sort(), ["m1:5000 att", "m1:5000 sig", "m2:5000 sig"]);
    const stats = ledgerStats(l, 0);
    assert.equal(stats.pairs, 7);
    assert.deepEqual(stats.hosts.map((h) => [h.host, h.pairs]), [["m1:5000", 4], ["m2:5000", 3]]);
    assert.equal(explain(l, "prod/app", d("a"))[0]?.referrers[1]?.mirrors.length, 2);
    const db = l.database;
    assert.ok(db !== undefined);
    assert.equal(Number(db.prepare("SELECT count(*) AS n FROM pairs WHERE subject_id = ?").get(a.id)?.["n"]), 0);
    assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'digests'").get(), undefined);
  } finally {
    l.close();
  }
});
