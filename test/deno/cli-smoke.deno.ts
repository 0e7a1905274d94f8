// Run by `make test-deno`: the CLI itself under Deno, exactly `deno run -A src/main.ts ...`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

function sigmirror(...args: string[]) {
  const r = spawnSync(process.execPath, ["run", "-A", "src/main.ts", ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("--help lists the verbs and the exit codes", () => {
  const r = sigmirror("--help");
  assert.equal(r.code, 0, r.err);
  for (const word of ["plan", "replicate", "verify", "ledger", "Exit codes"]) assert.match(r.out, new RegExp(word));
});

test("--version prints a development version without build-time constants", () => {
  const r = sigmirror("--version");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^sigmirror 0\.0\.0-dev /);
});

test("an unknown flag is exit 2 with one line naming it", () => {
  const r = sigmirror("plan", "--no-such-flag");
  assert.equal(r.code, 2);
  assert.equal(r.err.trim().split("\n").length, 1);
  assert.match(r.err, /--no-such-flag/);
});
