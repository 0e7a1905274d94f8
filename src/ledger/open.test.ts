// node:test + node:assert: runs under `bun test` and `deno test`. What a run refuses at open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ledgerWithPairs, middleCell, overwrite, pagesOf } from "../../test/lib/ledger-damage.ts";
import { Ledger } from "./ledger.ts";
import { LedgerError } from "./open.ts";

function tmp() {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-open-"));
  return { dir, path: join(dir, "state.db"), [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}


test("64 damaged bytes in any table's pages are refused at open, the file untouched", () => {
  using t = tmp();
  ledgerWithPairs(t.path);
  const pristine = readFileSync(t.path);
  // The pairs table is what a run reads last (a warm run never): the case that once sent requests.
  // "cell": at the page's middle cell, so the bytes are in use (free space in a page is harmless,
  // and no check could find damage there).
  const cases: [string, string, "middle" | "cell"][] = [
    ["pairs", "leaf", "middle"],
    ["pairs", "leaf", "cell"],
    ["pairs", "internal", "cell"],
    ["subjects", "leaf", "cell"],
    ["subject_tags", "leaf", "cell"],
    ["sqlite_schema", "leaf", "cell"],
  ];
  for (const [table, pagetype, where] of cases) {
    const name = `${table} ${pagetype} ${where}`;
    writeFileSync(t.path, pristine);
    const pages = pagesOf(t.path, table, pagetype);
    const page = pages[Math.floor(pages.length / 2)];
    assert.ok(page !== undefined, `${name}: no such page`);
    overwrite(t.path, where === "middle" ? page.start + page.size / 2 : middleCell(t.path, page), Buffer.alloc(64, 0xa5));
    const before = readFileSync(t.path);
    for (const [how, open] of [
      ["openForRun", () => Ledger.openForRun(t.path)],
      ["openReadOnly", () => Ledger.openReadOnly(t.path)],
    ] as const) {
      assert.throws(open, (err: unknown) => err instanceof LedgerError && err.problem === "corrupt" && err.message.startsWith(`${t.path}: corrupt`) && !err.message.includes("\n"), `${name}: ${how}`);
      assert.deepEqual(readFileSync(t.path), before, `${name}: ${how}: file changed`);
      for (const side of ["-wal", "-shm"]) assert.equal(existsSync(`${t.path}${side}`), false, `${name}: ${how}: left ${side}`);
    }
  }
});

test("one run lock per ledger file, however it is named (a symlink, a relative path, a symlinked directory)", () => {
  using t = tmp();
  mkdirSync(join(t.dir, "real"));
  symlinkSync("real", join(t.dir, "dirlink"));
  const path = join(t.dir, "real", "state.db");
  // The first name does not exist yet: the lock must still be the one of the file it will create.
  symlinkSync("state.db", join(t.dir, "real", "link.db"));
  const holder = Ledger.openForRun(join(t.dir, "real", "link.db"));
  try {
    const names = [path, join(t.dir, "dirlink", "state.db"), join(t.dir, "dirlink", "link.db"), relative(process.cwd(), path)];
    for (const name of names) {
      assert.throws(
        () => Ledger.openForRun(name),
        (err: unknown) => err instanceof LedgerError && err.problem === "busy" && err.message.startsWith(`${name}: `),
        name,
      );
    }
  } finally {
    holder.close();
  }
  Ledger.openForRun(join(t.dir, "dirlink", "state.db")).close();
});
