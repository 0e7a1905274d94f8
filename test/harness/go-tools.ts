// Third-party Go tools the referrers tests drive (cosign, olareg, regctl, oras), built by
// scripts/install-go-tools.sh into .tools/go/bin. Go is needed only to build them, so a machine
// without Go skips those tests with one line; under CI=true the machine is ours, and a skip
// there would hide a regression, so it fails instead.
import { describe, test } from "bun:test";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, repoRoot, runCommand, type CliResult } from "../lib/cli.ts";

export type GoToolName = "cosign" | "olareg" | "regctl" | "oras";

/** Where scripts/install-go-tools.sh puts them; GO_TOOLS_BIN overrides both, as in the script. */
export const goToolsBin = process.env["GO_TOOLS_BIN"] || join(repoRoot, ".tools/go/bin");

/** Path of a tool in .tools/go/bin (whether it exists or not). */
export function goTool(name: GoToolName): string {
  return join(goToolsBin, name);
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function missingGoTools(names: readonly GoToolName[]): GoToolName[] {
  return names.filter((n) => !executable(goTool(n)));
}

/** Why tests needing `names` cannot run, or undefined when they all are installed. */
export function goToolsMissingReason(names: readonly GoToolName[]): string | undefined {
  const missing = missingGoTools(names);
  if (missing.length === 0) return undefined;
  return `${missing.join(", ")} not installed: run scripts/install-go-tools.sh (needs Go)`;
}

function underCI(): boolean {
  return process.env["CI"] === "true";
}

/**
 * For a test file: true when every tool is installed. Otherwise false after printing one line
 * (outside CI), or throws (under CI=true).
 */
export function requireGoTools(names: readonly GoToolName[], title = "Go tool tests"): boolean {
  const reason = goToolsMissingReason(names);
  if (reason === undefined) return true;
  if (underCI()) throw new Error(`${title}: cannot run under CI: ${reason}`);
  console.warn(`skip ${title}: ${reason}`);
  return false;
}

/**
 * describe() when the tools are installed. Otherwise, outside CI, describe.skip() after one line
 * saying why; under CI=true, a describe whose single test fails with that reason (a test failure,
 * named in the report, rather than a load error of the file).
 */
export function describeWithTools(names: readonly GoToolName[], title: string, fn: () => void): void {
  const reason = goToolsMissingReason(names);
  if (reason === undefined) {
    describe(title, fn);
  } else if (underCI()) {
    describe(title, () => {
      test("needs the Go test tools", () => {
        throw new Error(`cannot run under CI: ${reason}`);
      });
    });
  } else {
    console.warn(`skip ${title}: ${reason}`);
    describe.skip(title, fn);
  }
}

export type ToolResult = CliResult;

/**
 * The tools' environment for one call: no proxies (cleanEnv), HOME/DOCKER_CONFIG in `home`, and
 * none of the user's COSIGN_/REGCTL_/ORAS_ settings (COSIGN_REPOSITORY alone would move every
 * signature elsewhere).
 */
export function goToolEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(cleanEnv())) {
    if (!/^(COSIGN|SIGSTORE|TUF|REGCTL|ORAS|DOCKER|XDG)_/i.test(k)) env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    DOCKER_CONFIG: join(home, ".docker"),
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    ...extra,
  };
}

/**
 * Runs a tool without a shell; never throws for a non-zero exit (a verification that must fail
 * is a normal outcome). Each call gets a fresh HOME, removed afterwards: cosign writes
 * ~/.sigstore, regctl and oras read ~/.regctl and ~/.docker/config.json, and none of that may
 * touch or come from the user's own (nor leak: bun test does not reliably run exit hooks).
 * Killed after timeoutMs (default 60 s) so a hung tool fails the test instead of hanging it.
 */
export async function runGoTool(
  name: GoToolName,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ToolResult> {
  const home = mkdtempSync(join(tmpdir(), "sigmirror-go-tools-home-"));
  try {
    return await runCommand([goTool(name), ...args], { cwd: options.cwd ?? home, env: goToolEnv(home, options.env), timeoutMs: options.timeoutMs ?? 60_000 });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** runGoTool, throwing with the command line and the end of stderr unless the tool exits 0. */
export async function runGoToolOk(
  name: GoToolName,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ToolResult> {
  const r = await runGoTool(name, args, options);
  if (r.code !== 0) throw new Error(`${name} ${args.join(" ")} exited ${r.code}: ${r.err.trim().slice(-2000)}`);
  return r;
}
