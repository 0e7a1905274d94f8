// What the CLI does with a ledger it must not use: exit 2, one line naming the file, before any
// request, the file untouched and nothing created beside it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sigmirror } from "./lib/cli.ts";
import { damagedLedger } from "./lib/ledger-damage.ts";
import { countingListeners, type Listeners } from "./lib/listeners.ts";

let dir = "";
let net: Listeners;
let manifest = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sigmirror-ledger-cli-"));
  net = countingListeners();
  manifest = net.manifest(dir);
});
afterAll(() => {
  net.stop();
  rmSync(dir, { recursive: true, force: true });
});

const runArgs = (ledger: string) => ["--manifest", manifest, "--primary", net.hosts[0] ?? "", "--ledger", ledger];

describe("a damaged ledger", () => {
  test("replicate, --dry-run, verify, ledger stats and explain: exit 2, one line naming the file, no request, file untouched", async () => {
    const sub = mkdtempSync(join(dir, "damaged-"));
    const ledger = join(sub, "damaged.db");
    damagedLedger(ledger);
    const before = readFileSync(ledger);
    const files = readdirSync(sub).sort();
    const runs: [string, string[]][] = [
      ["replicate", ["replicate", ...runArgs(ledger)]],
      ["replicate --dry-run", ["replicate", "--dry-run", ...runArgs(ledger)]],
      ["verify", ["verify", ...runArgs(ledger)]],
      ["ledger stats", ["ledger", "stats", "--ledger", ledger]],
      ["ledger explain", ["ledger", "explain", `prod/app@sha256:${"1".repeat(64)}`, "--ledger", ledger]],
    ];
    for (const [name, args] of runs) {
      const r = await sigmirror(args);
      expect(`${name}: exit ${r.code}: ${r.err}`).toStartWith(`${name}: exit 2: sigmirror: ${ledger}: corrupt ledger`);
      expect(r.err.trimEnd().split("\n"), name).toHaveLength(1);
      expect(net.connections(), name).toBe(0);
      expect(readFileSync(ledger).equals(before), `${name}: file changed`).toBe(true);
      expect(readdirSync(sub).sort(), `${name}: files beside it`).toEqual(files);
    }
    expect(existsSync(`${ledger}-wal`)).toBe(false);
  }, 30_000);
});

describe("a ledger path that names no file", () => {
  test("ledger stats and explain: exit 2, one line naming the path, nothing created", async () => {
    const sub = mkdtempSync(join(dir, "missing-"));
    const ledger = join(sub, "nope.db");
    for (const args of [
      ["ledger", "stats", "--ledger", ledger],
      ["ledger", "stats", "--ledger", ledger, "--output", "json"],
      ["ledger", "explain", `prod/app@sha256:${"1".repeat(64)}`, "--ledger", ledger],
    ]) {
      const r = await sigmirror(args);
      expect(`exit ${r.code}: ${r.err}`, args.join(" ")).toBe(`exit 2: sigmirror: ${ledger}: no such ledger file\n`);
      expect(r.out).toBe("");
      expect(readdirSync(sub)).toEqual([]);
    }
  });
});
