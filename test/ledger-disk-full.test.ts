// A ledger on a full filesystem: the first error (SQLITE_FULL) is the one the run sees, as a
// LedgerError naming the file, never the ROLLBACK that fails after SQLite already rolled back.
// Needs a real small tmpfs, so root; elsewhere skipped, except under CI where it must run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ledger } from "../src/ledger/ledger.ts";
import { LedgerError } from "../src/ledger/open.ts";

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

let dir = "";
let mounted = false;
let whyNot = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sigmirror-full-"));
  if (process.getuid?.() !== 0) {
    whyNot = "mounting a tmpfs needs root";
    return;
  }
  const mnt = join(dir, "mnt");
  mkdirSync(mnt);
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", mnt], { stderr: "pipe" });
  if (r.exitCode !== 0) whyNot = `mount -t tmpfs failed: ${r.stderr.toString().trim()}`;
  else mounted = true;
});

afterAll(() => {
  if (mounted) Bun.spawnSync(["umount", join(dir, "mnt")]);
  rmSync(dir, { recursive: true, force: true });
});

test("a flush on a full disk throws one LedgerError naming the file and saying disk full, and keeps throwing it", () => {
  if (!mounted) {
    // Under CI the environment is ours: a skipped fault test there would hide a regression.
    if (process.env["CI"] === "true") throw new Error(`cannot run under CI: ${whyNot}`);
    console.warn(`skipped: ${whyNot}`);
    return;
  }
  const path = join(dir, "mnt", "state.db");
  const ledger = Ledger.openForRun(path);
  let caught: unknown;
  try {
    // 200 KB fills within a few batches of 500 subjects, each with a tag and three pairs.
    for (let batch = 0; batch < 200 && caught === undefined; batch++) {
      for (let i = 0; i < 500; i++) {
        const n = batch * 500 + i;
        const key = { primary: "127.0.0.2:5000", repository: `prod/r${n % 50}`, digest: d(n) };
        ledger.putSubject(key, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 1, dueAt: 9, tags: new Map([["sig", d(n + 1_000_000)]]) });
        for (const m of ["m1:5000", "m2:5000", "m3:5000"]) ledger.putPair(key, m, "sig", d(n + 1_000_000), 2, 9);
      }
      try {
        ledger.flush();
      } catch (err) {
        caught = err;
      }
    }
    expect(caught).toBeInstanceOf(LedgerError);
    const message = caught instanceof Error ? caught.message : String(caught);
    expect(message).toStartWith(`${path}: `);
    expect(message).toContain("disk full");
    expect(message).not.toContain("\n");
    expect(message).not.toMatch(/rollback/i);
    // The ledger refuses further writes, with the same first error.
    ledger.putSubject({ primary: "p", repository: "r", digest: d(1) }, { state: "unsigned", firstSeen: 1, signedAt: undefined, checkedAt: 1, dueAt: 2, tags: new Map() });
    expect(() => ledger.flush()).toThrow(message);
  } finally {
    ledger.close();
  }
});
