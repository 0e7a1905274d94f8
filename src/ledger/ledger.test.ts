// node:test + node:assert: runs under `bun test` and `deno test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Ledger } from "./ledger.ts";
import { LedgerError } from "./open.ts";
import { openDatabase } from "./sqlite.ts";
import { SCHEMA_VERSION } from "./schema.ts";

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;
const key = { primary: "127.0.0.2:5000", repository: "prod/foo", digest: d("a") };

function tmp() {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-ledger-"));
  return { dir, path: join(dir, "state.db"), [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

function fileBytes(path: string): { bytes: Buffer; mtimeMs: number } {
  return { bytes: readFileSync(path), mtimeMs: statSync(path).mtimeMs };
}

test("subjects, tags, children and pairs survive a reopen", () => {
  using t = tmp();
  const a = Ledger.openForRun(t.path);
  a.putSubject(key, { state: "signed", firstSeen: 100, signedAt: 110, checkedAt: 120, dueAt: 200, tags: new Map([["sig", d("b")]]) });
  a.putChildren(key.digest, true, [d("c"), d("e")]);
  a.putPair(key, "127.0.0.3:5000", "sig", d("b"), 120, 300);
  // A plain manifest is recorded with its subject (on its row).
  const plain = { ...key, digest: d("9") };
  a.putChildren(plain.digest, false, []);
  a.putSubject(plain, { state: "unsigned", firstSeen: 100, signedAt: undefined, checkedAt: 120, dueAt: 200, tags: new Map() });
  a.flush();
  a.close();
  const b = Ledger.openReadOnly(t.path);
  assert.deepEqual(b.children(plain.digest), []);
  const s = b.subject(key);
  assert.ok(s);
  assert.equal(s.state, "signed");
  assert.equal(s.signedAt, 110);
  assert.equal(s.tags.get("sig"), d("b"));
  assert.deepEqual(b.children(key.digest), [d("c"), d("e")]);
  assert.equal(b.children(d("f")), undefined);
  const p = b.pair(s, "127.0.0.3:5000", "sig");
  assert.deepEqual(p, { mirror: "127.0.0.3:5000", suffix: "sig", digest: d("b"), verifiedAt: 120, dueAt: 300 });
  assert.equal(b.pair(s, "127.0.0.4:5000", "sig"), undefined);
  // The summary a warm run compares instead of reading pairs.
  assert.equal(s.settledOn, b.mirrorSet(["127.0.0.3:5000"]));
  assert.notEqual(s.settledOn, 0);
  assert.equal(s.pairsDue, 300);
  assert.equal(b.pair(s, "127.0.0.3:5000", "att"), undefined);
  b.close();
});

test("a re-signed subject drops the pairs verified against its old signature", () => {
  using t = tmp();
  const a = Ledger.openForRun(t.path);
  a.putSubject(key, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 1, dueAt: 9, tags: new Map([["sig", d("b")]]) });
  a.putPair(key, "m1:5000", "sig", d("b"), 2, 9);
  a.putPair(key, "m2:5000", "sig", d("b"), 2, 9);
  a.flush();
  a.putSubject(key, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 3, dueAt: 9, tags: new Map([["sig", d("9")]]) });
  a.putPair(key, "m1:5000", "sig", d("9"), 3, 9);
  a.flush();
  a.close();
  const b = Ledger.openReadOnly(t.path);
  const s = b.subject(key);
  assert.ok(s);
  assert.equal(b.pair(s, "m1:5000", "sig")?.digest, d("9"));
  assert.equal(b.pair(s, "m2:5000", "sig"), undefined);
  b.close();
});

test("a pair for a digest the subject's tag no longer has is not recorded", () => {
  using t = tmp();
  const a = Ledger.openForRun(t.path);
  a.putSubject(key, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 1, dueAt: 9, tags: new Map([["sig", d("b")]]) });
  a.putPair(key, "m1:5000", "sig", d("c"), 2, 9);
  a.putPair(key, "m2:5000", "att", d("b"), 2, 9);
  a.flush();
  assert.equal(a.pairCount, 0);
  a.close();
});

test("dropPair forgets a pair; writes without flush are lost, never half-applied", () => {
  using t = tmp();
  const a = Ledger.openForRun(t.path);
  a.putSubject(key, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 1, dueAt: 9, tags: new Map([["sig", d("b")]]) });
  a.putPair(key, "m1:5000", "sig", d("b"), 2, 9);
  a.flush();
  a.dropPair(key, "m1:5000", "sig");
  a.flush();
  a.putPair(key, "m2:5000", "sig", d("b"), 2, 9);
  a.close();
  const b = Ledger.openReadOnly(t.path);
  const s = b.subject(key);
  assert.ok(s);
  assert.equal(b.pairCount, 0);
  b.close();
});

test("prune forgets subjects out of every manifest and pairs of hosts no longer mirrors", () => {
  using t = tmp();
  const a = Ledger.openForRun(t.path);
  const gone = { ...key, digest: d("7") };
  for (const k of [key, gone]) {
    a.putSubject(k, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 1, dueAt: 9, tags: new Map([["sig", d("b")]]) });
    a.putPair(k, "m1:5000", "sig", d("b"), 2, 9);
    a.putPair(k, "m2:5000", "sig", d("b"), 2, 9);
  }
  a.flush();
  a.close();
  const b = Ledger.openForRun(t.path);
  const kept = b.subject(key);
  if (kept === undefined) throw new Error("subject not loaded");
  const pruned = b.prune(new Map([[kept.id, ["m1:5000"]]]), 0);
  assert.deepEqual(pruned, { subjects: 1, pairs: 1 });
  b.close();
  const c = Ledger.openReadOnly(t.path);
  assert.equal(c.subjectCount, 1);
  assert.equal(c.pairCount, 1);
  c.close();
});

test("garbage, a foreign SQLite file and a newer schema are refused and left untouched", () => {
  using t = tmp();
  const cases: [string, () => void, RegExp][] = [
    ["garbage", () => writeFileSync(t.path, Buffer.from("not a database at all, just text\n".repeat(100))), /not a SQLite database/],
    [
      "foreign",
      () => {
        const db = openDatabase(t.path);
        db.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('x')");
        db.close();
      },
      /not a sigmirror ledger/,
    ],
    [
      "newer",
      () => {
        const a = Ledger.openForRun(t.path);
        a.close();
        const db = openDatabase(t.path);
        db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
        db.close();
      },
      /newer than this sigmirror supports/,
    ],
    [
      "truncated",
      () => {
        const a = Ledger.openForRun(t.path);
        a.putSubject(key, { state: "unsigned", firstSeen: 1, signedAt: undefined, checkedAt: 1, dueAt: 2, tags: new Map() });
        a.flush();
        a.close();
        const bytes = readFileSync(t.path);
        writeFileSync(t.path, Buffer.concat([bytes.subarray(0, 100), Buffer.alloc(bytes.length - 100, 0x5a)]));
      },
      /corrupt/,
    ],
  ];
  for (const [name, make, message] of cases) {
    rmSync(t.path, { force: true });
    rmSync(`${t.path}-wal`, { force: true });
    make();
    const before = fileBytes(t.path);
    for (const open of [() => Ledger.openForRun(t.path), () => Ledger.openReadOnly(t.path)]) {
      assert.throws(open, (err: unknown) => err instanceof LedgerError && message.test(err.message) && err.message.startsWith(t.path), name);
    }
    assert.deepEqual(fileBytes(t.path), before, `${name}: file changed`);
  }
});

test("a second run is refused while one holds the ledger; a killed holder leaves no lock", async () => {
  using t = tmp();
  const holder = resolve(import.meta.dirname ?? ".", "../../test/lib/ledger-holder.ts");
  const isDeno = "Deno" in globalThis;
  const child = spawn(process.execPath, [...(isDeno ? ["run", "-A"] : []), holder, t.path], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((ok, fail) => {
      child.stdout.on("data", (b: Buffer) => b.toString().includes("locked") && ok());
      child.on("exit", (code) => fail(new Error(`holder exited ${code}`)));
    });
    assert.throws(() => Ledger.openForRun(t.path), /in use by another sigmirror run/);
    const reader = Ledger.openReadOnly(t.path);
    reader.close();
  } finally {
    child.kill("SIGKILL");
    await new Promise((ok) => child.once("exit", ok));
  }
  const again = Ledger.openForRun(t.path);
  again.close();
});

test("a settled subject's pairs fold into its row; a write unfolds them, and they fold again only when complete", () => {
  using t = tmp();
  const a = Ledger.openForRun(t.path);
  const mirrors = ["m1:5000", "m2:5000"];
  const referrer = { digest: d("5"), of: key.digest, artifactType: "application/vnd.in-toto+json" };
  a.putSubject(key, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 1, dueAt: 9, tags: new Map([["sig", d("b")]]), referrers: [referrer], referrersLooked: "all" });
  for (const m of mirrors) {
    a.putPair(key, m, "sig", d("b"), 120, 9000);
    a.putReferrerPair(key, m, d("5"), 180, 7980);
  }
  a.flush();
  const rows = () => Number(a.database?.prepare("SELECT (SELECT count(*) FROM pairs) + (SELECT count(*) FROM referrer_pairs) AS n").get()?.["n"]);
  assert.equal(rows(), 0);
  assert.equal(a.pairCount, 2);
  // A second referrer appears on the primary: the subject is no longer settled until both mirrors list it.
  const second = { ...referrer, digest: d("6") };
  a.putSubject(key, { state: "signed", firstSeen: 1, signedAt: 1, checkedAt: 2, dueAt: 9, tags: new Map([["sig", d("b")]]), referrers: [referrer, second], referrersLooked: "all" });
  a.putReferrerPair(key, "m1:5000", d("6"), 240, 6960);
  a.flush();
  assert.equal(rows(), 5);
  a.putReferrerPair(key, "m2:5000", d("6"), 240, 6960);
  a.flush();
  assert.equal(rows(), 0);
  a.close();
  const b = Ledger.openReadOnly(t.path);
  const s = b.subject(key);
  assert.ok(s);
  assert.equal(s.settledOn, b.mirrorSet(mirrors));
  assert.equal(b.mirrorSet(["m1:5000"]), 0);
  // Folded pairs take the earliest verification and due time of them all.
  assert.equal(s.pairsDue, 6960);
  assert.deepEqual(b.pair(s, "m2:5000", "sig"), { mirror: "m2:5000", suffix: "sig", digest: d("b"), verifiedAt: 120, dueAt: 6960 });
  assert.deepEqual(b.referrerPairsOf(s).map((p) => `${p.mirror} ${p.digest === d("5") ? 5 : 6}`).sort(), ["m1:5000 5", "m1:5000 6", "m2:5000 5", "m2:5000 6"]);
  b.close();
});
