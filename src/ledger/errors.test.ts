// node:test + node:assert: runs under `bun test` and `deno test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { classify, LedgerError, writeError, type LedgerProblem } from "./errors.ts";

/** node:sqlite's errors: Bun adds errcode (sometimes an extended code), Deno gives the message only. */
function sqliteError(message: string, errcode?: number): Error {
  return Object.assign(new Error(message), { code: "ERR_SQLITE_ERROR" }, errcode === undefined ? {} : { errcode });
}

test("SQLite errors are classified by code (Bun) or by message (Deno)", () => {
  const cases: [string, Error, LedgerProblem][] = [
    ["full, Bun", sqliteError("database or disk is full", 13), "full"],
    ["full, Deno", sqliteError("database or disk is full"), "full"],
    ["readonly, Bun", sqliteError("attempt to write a readonly database", 8), "readonly"],
    ["readonly extended (SQLITE_READONLY_DBMOVED)", sqliteError("attempt to write a readonly database", 1032), "readonly"],
    ["readonly, Deno", sqliteError("attempt to write a readonly database"), "readonly"],
    ["cantopen, Bun", sqliteError("unable to open database file", 14), "readonly"],
    ["cantopen, Deno", sqliteError("unable to open database file"), "readonly"],
    ["corrupt, Bun", sqliteError("database disk image is malformed", 11), "corrupt"],
    ["corrupt, Deno", sqliteError("database disk image is malformed"), "corrupt"],
    ["notadb", sqliteError("file is not a database", 26), "corrupt"],
    ["busy", sqliteError("database is locked", 5), "busy"],
    ["I/O", sqliteError("disk I/O error", 10), "io"],
    ["logic error (the ROLLBACK that must not mask)", sqliteError("cannot rollback - no transaction is active", 1), "io"],
    ["a plain Error", new Error("boom"), "io"],
  ];
  for (const [name, err, want] of cases) assert.equal(classify(err), want, name);
});

test("a failed write is one line naming the file, the problem first", () => {
  const cases: [Error, RegExp, LedgerProblem][] = [
    [sqliteError("database or disk is full", 13), /^\/x\/l\.db: disk full: cannot write the ledger \(database or disk is full\)$/, "full"],
    [sqliteError("attempt to write a readonly database\nmore"), /^\/x\/l\.db: not writable: cannot write the ledger \(attempt to write a readonly database\)$/, "readonly"],
    [sqliteError("disk I/O error", 10), /^\/x\/l\.db: cannot write the ledger: disk I\/O error$/, "io"],
  ];
  for (const [err, message, problem] of cases) {
    const e = writeError("/x/l.db", err, "cannot write the ledger");
    assert.ok(e instanceof LedgerError);
    assert.match(e.message, message);
    assert.equal(e.problem, problem);
  }
  const kept = new LedgerError("/x/l.db", "already classified", "busy");
  assert.equal(writeError("/y", kept, "whatever"), kept);
});
