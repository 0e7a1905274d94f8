// Damaged ledgers for tests: a real ledger, then bytes overwritten inside a chosen b-tree page.
// Node APIs only: used by src/ledger tests under Deno too.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { Ledger } from "../../src/ledger/ledger.ts";
import { openDatabase } from "../../src/ledger/sqlite.ts";

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

/** A closed ledger whose pairs table spans many pages (3,000 pairs). */
export function ledgerWithPairs(path: string): void {
  const l = Ledger.openForRun(path);
  for (let n = 0; n < 1000; n++) {
    const key = { primary: "127.0.0.2:5000", repository: `prod/r${n % 20}`, digest: d(n) };
    const tags = new Map([["sig", d(n + 100_000)], ["att", d(n + 200_000)]] as const);
    l.putSubject(key, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 1, dueAt: 9, tags });
    // Not every mirror holds the .att: the pairs stay rows (a full product would fold into the subject's row).
    for (const m of ["m1:5000", "m2:5000", "m3:5000"]) l.putPair(key, m, "sig", d(n + 100_000), 2, 9);
    l.putPair(key, "m1:5000", "att", d(n + 200_000), 2, 9);
  }
  l.flush();
  l.close();
}

/** Where `table`'s b-tree pages of a type (leaf, internal) are in the file, found by SQLite's dbstat. */
export function pagesOf(path: string, table: string, pagetype: string): { start: number; size: number }[] {
  const db = openDatabase(path, { readOnly: true });
  try {
    const size = Number(db.prepare("PRAGMA page_size").get()?.["page_size"]);
    const pages = db.prepare("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno").all(table, pagetype);
    return pages.map((r) => ({ start: (Number(r["pageno"]) - 1) * size, size }));
  } finally {
    db.close();
  }
}

/** The file offset of the middle cell of a b-tree page (SQLite's file format: header, cell pointer array). */
export function middleCell(path: string, page: { start: number; size: number }): number {
  const bytes = readFileSync(path).subarray(page.start, page.start + page.size);
  const header = page.start === 0 ? 100 : 0;
  const interior = bytes[header] === 2 || bytes[header] === 5;
  const cells = bytes.readUInt16BE(header + 3);
  const cell = bytes.readUInt16BE(header + (interior ? 12 : 8) + 2 * Math.floor(cells / 2));
  return page.start + Math.min(cell, page.size - 64);
}

export function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** A closed ledger with 64 bytes overwritten in the middle of a leaf page of its pairs table. */
export function damagedLedger(path: string): void {
  ledgerWithPairs(path);
  const pages = pagesOf(path, "pairs", "leaf");
  const page = pages[Math.floor(pages.length / 2)];
  if (page === undefined) throw new Error("the pairs table has no leaf page");
  overwrite(path, page.start + page.size / 2, Buffer.alloc(64, 0xa5));
}
