// node:test + node:assert: runs under `bun test` and `deno test`.
// A version-1 ledger (before referrers) migrated in place: its tag knowledge kept, its subjects'
// first referrer lookups spread over one re-verify window rather than all due at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ledger } from "./ledger.ts";
import { APPLICATION_ID, migrations, SCHEMA_VERSION } from "./schema.ts";
import { openDatabase } from "./sqlite.ts";

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

test("a version-1 ledger is migrated in place: tags and pairs kept, referrer lookups spread over 24h", () => {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-migrate-"));
  try {
    const path = join(dir, "state.db");
    // What a released version-1 binary wrote: its schema, one signed subject with a verified pair.
    const v1 = openDatabase(path);
    v1.exec(migrations[0] ?? "");
    v1.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    v1.exec("PRAGMA user_version = 1");
    v1.close();
    const a = Ledger.openForRun(path);
    const subjects = 200;
    for (let i = 0; i < subjects; i++) {
      const key = { primary: "p:5000", repository: "prod/app", digest: d(i.toString(16).padStart(2, "0")) };
      a.putSubject(key, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 1, dueAt: 2, tags: new Map([["sig", d("f")]]) });
      a.putPair(key, "m:5000", "sig", d("f"), 1, 9);
    }
    a.flush();
    a.close();
    // Back to version 1 with those rows, as an old binary would have left it.
    const back = openDatabase(path);
    back.exec("ALTER TABLE subjects DROP COLUMN referrers_looked; ALTER TABLE subjects DROP COLUMN referrers_due; ALTER TABLE subjects DROP COLUMN ref_key");
    back.exec("DROP TABLE subject_referrers; DROP TABLE referrer_pairs; DROP TABLE referrer_selections; DROP TABLE artifact_types");
    back.exec("PRAGMA user_version = 1");
    back.close();

    const before = Math.floor(Date.now() / 1000);
    const b = Ledger.openForRun(path);
    const after = Math.floor(Date.now() / 1000);
    const all = [...b.entries()].map(([, s]) => s);
    assert.equal(all.length, subjects);
    for (const s of all) {
      assert.equal(s.tags.get("sig"), d("f"));
      assert.equal(s.referrersLooked, undefined);
      assert.ok(s.referrersDue >= before && s.referrersDue < after + 86_400, `${s.referrersDue}`);
      assert.equal(b.pairsOf(s).length, 1);
    }
    // Spread, not bunched: 200 draws over 24h land in more than half of the 24 hours.
    const hours = new Set(all.map((s) => Math.floor((s.referrersDue - before) / 3600)));
    assert.ok(hours.size > 12, `${hours.size} distinct hours`);
    const version = Number(openDatabase(path, { readOnly: true }).prepare("PRAGMA user_version").get()?.["user_version"]);
    assert.equal(version, SCHEMA_VERSION);
    b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
