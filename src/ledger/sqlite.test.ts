// node:test + node:assert so that this file runs under `bun test` and `deno test` alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { openDatabase } from "./sqlite.ts";

function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-sqlite-"));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

test("rows round-trip with integers, text and blobs", () => {
  const db = openDatabase(":memory:");
  db.exec("CREATE TABLE t (i INTEGER, s TEXT, b BLOB)");
  db.prepare("INSERT INTO t VALUES (?, ?, ?)").run(7, "x", new Uint8Array([1, 2, 3]));
  const row = db.prepare("SELECT i, s, b FROM t").get();
  assert.equal(row?.["i"], 7);
  assert.equal(row?.["s"], "x");
  assert.deepEqual([...(row?.["b"] as Uint8Array)], [1, 2, 3]);
  assert.equal(db.prepare("SELECT i FROM t WHERE i = ?").get(8), undefined);
  db.close();
});

test("a transaction that throws leaves nothing behind", () => {
  const db = openDatabase(":memory:");
  db.exec("CREATE TABLE t (i INTEGER PRIMARY KEY)");
  db.transaction(() => db.prepare("INSERT INTO t VALUES (?)").run(1));
  assert.throws(() =>
    db.transaction(() => {
      db.prepare("INSERT INTO t VALUES (?)").run(2);
      throw new Error("boom");
    }),
  );
  assert.deepEqual(
    db.prepare("SELECT i FROM t").all().map((r) => r["i"]),
    [1],
  );
  db.close();
});

test("committed writes survive reopening a WAL file", () => {
  using tmp = tempDir();
  const path = join(tmp.dir, "x.db");
  const a = openDatabase(path);
  a.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (i INTEGER)");
  a.transaction(() => a.prepare("INSERT INTO t VALUES (?)").run(42));
  a.close();
  const b = openDatabase(path, { readOnly: true });
  assert.equal(b.prepare("SELECT count(*) AS n FROM t").get()?.["n"], 1);
  assert.throws(() => b.exec("INSERT INTO t VALUES (1)"));
  b.close();
});

test("a second writer is refused while the first holds the write lock", () => {
  using tmp = tempDir();
  const path = join(tmp.dir, "lock.db");
  const a = openDatabase(path);
  a.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (i INTEGER)");
  a.exec("BEGIN IMMEDIATE");
  const b = openDatabase(path);
  assert.throws(() => b.exec("BEGIN IMMEDIATE"), /locked|busy/i);
  a.exec("COMMIT");
  b.exec("BEGIN IMMEDIATE");
  b.exec("COMMIT");
  a.close();
  b.close();
});

test("the first error survives a transaction SQLite already rolled back (ROLLBACK is not run over it)", () => {
  const db = openDatabase(":memory:");
  db.exec("CREATE TABLE t (i INTEGER)");
  // What SQLITE_FULL does to a transaction: SQLite ends it itself before the error reaches us.
  assert.throws(
    () =>
      db.transaction(() => {
        db.exec("ROLLBACK");
        throw new Error("the first error");
      }),
    /^Error: the first error$/,
  );
  db.transaction(() => db.prepare("INSERT INTO t VALUES (?)").run(1));
  db.close();
});

test("this file's module is the only one that imports node:sqlite (Bun and Deno both have it; nothing else may depend on it)", () => {
  const src = join(import.meta.dirname ?? ".", "..");
  const importers = (readdirSync(src, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .filter((f) => /from\s+["']node:sqlite["']|import\(\s*["']node:sqlite["']/.test(readFileSync(join(src, f), "utf8")));
  assert.deepEqual(importers.map((f) => f.split(sep).join("/")), ["ledger/sqlite.ts"]);
});
