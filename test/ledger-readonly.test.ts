// A ledger a run cannot write (run as 65532, the image's user: root writes anything): exit 2,
// one line naming what is not writable, before any request, nothing created beside it. The
// compiled binary, as in the image. Needs root to switch users; elsewhere skipped, not under CI.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, repoRoot } from "./lib/cli.ts";
import { ledgerWithPairs } from "./lib/ledger-damage.ts";
import { countingListeners, type Listeners } from "./lib/listeners.ts";

const USER = 65532;
let base = "";
let binary = "";
let manifest = "";
let net: Listeners;
let whyNot = "";

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "sigmirror-readonly-"));
  chmodSync(base, 0o755);
  net = countingListeners();
  manifest = net.manifest(base);
  if (process.getuid?.() !== 0) {
    whyNot = "running as another user needs root";
    return;
  }
  binary = join(base, "sigmirror");
  const r = Bun.spawnSync([process.execPath, "build.ts"], { cwd: repoRoot, env: cleanEnv({ SIGMIRROR_OUTFILE: binary }), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`build failed: ${r.stderr.toString()}`);
}, 120_000);
afterAll(() => {
  net.stop();
  rmSync(base, { recursive: true, force: true });
});

function asUser(args: readonly string[]) {
  const r = Bun.spawnSync(["setpriv", `--reuid=${USER}`, `--regid=${USER}`, "--clear-groups", binary, ...args], { cwd: base, env: cleanEnv(), stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** A directory under `base` holding a ledger (or not), owned and moded as a case says. */
function setUp(name: string, o: { dirMode: number; ledger: boolean; fileMode?: number; rootLock?: boolean }): { dir: string; path: string } {
  const dir = join(base, name);
  mkdirSync(dir);
  const path = join(dir, "state.db");
  if (o.ledger) {
    ledgerWithPairs(path);
    rmSync(`${path}.lock`);
    chownSync(path, USER, USER);
    chmodSync(path, o.fileMode ?? 0o644);
  }
  if (o.rootLock === true) writeFileSync(`${path}.lock`, "");
  chmodSync(dir, o.dirMode);
  return { dir, path };
}

const cases: [string, Parameters<typeof setUp>[1], RegExp][] = [
  ["a ledger file of mode 0444", { dirMode: 0o777, ledger: true, fileMode: 0o444 }, /^state\.db: not writable/],
  ["a ledger in a directory of mode 0555", { dirMode: 0o555, ledger: true }, /^state\.db: not writable: its directory .* cannot be written/],
  ["a new ledger in a directory of mode 0555", { dirMode: 0o555, ledger: false }, /^state\.db: not writable: its directory .* cannot be written/],
  ["a lock file beside it that only root can write", { dirMode: 0o777, ledger: true, rootLock: true }, /^state\.db: not writable: .*state\.db\.lock/],
];

test.each(cases)("%s: replicate is exit 2, one line naming it, no request, nothing created or changed", (name, setup, message) => {
  if (whyNot !== "") {
    // Under CI the environment is ours: a skipped permission test there would hide a regression.
    if (process.env["CI"] === "true") throw new Error(`cannot run under CI: ${whyNot}`);
    console.warn(`skipped: ${whyNot}`);
    return;
  }
  const { dir, path } = setUp(name.replace(/\W+/g, "-"), setup);
  const files = readdirSync(dir).sort();
  const before = setup.ledger ? readFileSync(path) : undefined;
  const r = asUser(["replicate", "--manifest", manifest, "--primary", net.hosts[0] ?? "", "--ledger", path]);
  expect(`exit ${r.code}: ${r.err}`).toStartWith(`exit 2: sigmirror: ${dir}/`);
  expect(r.err.slice(`sigmirror: ${dir}/`.length)).toMatch(message);
  expect(r.err.trimEnd().split("\n")).toHaveLength(1);
  expect(net.connections()).toBe(0);
  expect(readdirSync(dir).sort()).toEqual(files);
  if (before !== undefined) expect(readFileSync(path).equals(before)).toBe(true);
  // Reading it needs no write: ledger stats still works.
  if (setup.ledger) expect(asUser(["ledger", "stats", "--ledger", path]).code).toBe(0);
}, 30_000);
