// The compiled executable: what it links, the glibc it needs, the constants injected at build
// time, and no automatic loading of .env or bunfig.toml from the working directory.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, repoRoot } from "./lib/cli.ts";
import { writeThinManifests } from "./lib/scenario.ts";

let dir: string;
let binary: string;

function run(argv: string[], cwd: string = repoRoot) {
  const r = Bun.spawnSync(argv, { cwd, env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sigmirror-build-"));
  binary = join(dir, "sigmirror");
  const r = Bun.spawnSync([process.execPath, "build.ts"], { cwd: repoRoot, env: cleanEnv({ SIGMIRROR_OUTFILE: binary }), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`build failed: ${r.stderr.toString()}`);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dist/sigmirror", () => {
  test("links nothing but glibc, and needs no glibc newer than 2.17", () => {
    const ldd = run(["ldd", binary]);
    expect(ldd.code).toBe(0);
    const libs = ldd.out
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0] ?? "")
      .filter((l) => l !== "" && !l.startsWith("linux-vdso"));
    for (const lib of libs) expect(lib).toMatch(/^(\/lib64\/)?(ld-linux-x86-64|libc|libm|libpthread|libdl|librt)\.so/);
    const symbols = run(["objdump", "-T", binary]);
    expect(symbols.code).toBe(0);
    const versions = [...symbols.out.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => Number(m[1]) * 1000 + Number(m[2]));
    expect(versions.length).toBeGreaterThan(0);
    expect(Math.max(...versions)).toBeLessThanOrEqual(2017);
  });

  test("--version names the package version, the commit and the build date", () => {
    const r = run([binary, "--version"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^sigmirror 0\.1\.0 \(commit [0-9a-f]{12}(-dirty)?|unknown, built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n$/);
    expect(r.out).not.toContain("0.0.0-dev");
  });

  test("a .env or bunfig.toml in the working directory is not loaded", () => {
    const cwd = mkdtempSync(join(dir, "ops-"));
    // Were .env loaded, this would make the run refuse with exit 2 before it sends anything.
    writeFileSync(join(cwd, ".env"), "SIGMIRROR_TEST_CLOCK_OFFSET=not-a-duration\n");
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./missing-preload.ts"]\n');
    writeThinManifests(join(cwd, "m"), ["127.0.0.1:9", "127.0.0.1:10"], [{ name: "x", digest: `sha256:${"a".repeat(64)}`, tag: "v1" }]);
    const r = run([binary, "replicate", "--thin-manifest-dir", join(cwd, "m"), "--primary", "127.0.0.1:9", "--no-ledger", "--dry-run", "--max-duration", "0s"], cwd);
    expect(r.err).not.toContain("SIGMIRROR_TEST_CLOCK_OFFSET");
    expect(r.err).not.toContain("missing-preload");
    // --max-duration 0s starts nothing: a clean exit 0, not a usage error.
    expect(r.code).toBe(0);
  });
});
