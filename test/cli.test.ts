import { describe, expect, test } from "bun:test";
import { sigmirror } from "./lib/cli.ts";

function oneLine(text: string): string {
  const lines = text.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0] ?? "";
}

describe("sigmirror CLI skeleton", () => {
  test("--help lists every verb and the exit codes, exit 0", async () => {
    const r = await sigmirror(["--help"]);
    expect(r.code).toBe(0);
    for (const verb of ["plan", "replicate", "verify", "ledger"]) expect(r.out).toContain(`  ${verb} `);
    for (const code of ["0 ", "1 ", "2 ", "130", "143"]) expect(r.out).toContain(`  ${code}`);
  });

  test("no arguments prints help to stdout and exits 2", async () => {
    const r = await sigmirror([]);
    expect(r.code).toBe(2);
    expect(r.out).toContain("Usage:");
  });

  test("each verb has its own --help, exit 0", async () => {
    for (const verb of ["plan", "replicate", "verify", "ledger"]) {
      const r = await sigmirror([verb, "--help"]);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`sigmirror ${verb}`);
      expect(r.out).toContain("Exit codes:");
    }
  });

  test("--version names version, commit and date (dev when run from source)", async () => {
    const r = await sigmirror(["--version"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^sigmirror 0\.0\.0-dev \(commit \S+, built \S+\)\n$/);
  });

  test("an unknown verb is exit 2, one line, a hint to --help", async () => {
    const r = await sigmirror(["replikate"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/unknown verb "replikate".*'sigmirror --help'/);
    expect(r.out).toBe("");
  });

  test("an unknown flag names the flag and the verb's help", async () => {
    const r = await sigmirror(["plan", "--frobnicate"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/plan: unknown flag --frobnicate .*'sigmirror plan --help'/);
  });

  test("a flag without its value names the flag and the expected value", async () => {
    const r = await sigmirror(["replicate", "--primary"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toContain("--primary: missing value, expected HOST");
  });

  test("a boolean flag given a value is a usage error", async () => {
    const r = await sigmirror(["plan", "--strict=yes"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toContain("--strict takes no value");
  });

  test("an unexpected positional argument is a usage error", async () => {
    const r = await sigmirror(["plan", "stray"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toContain('unexpected argument "stray"');
  });

  test("no stack trace for any user error", async () => {
    for (const args of [["x"], ["plan", "--x"], ["plan", "--output"], ["--nope"]]) {
      const r = await sigmirror(args);
      expect(r.code).toBe(2);
      expect(r.err).not.toMatch(/\bat .*:\d+:\d+/);
    }
  });
});
