// Runs the CLI from source in a child process, as a user would (exit code, stdout, stderr).
import { resolve } from "node:path";

export const repoRoot = resolve(import.meta.dir, "../..");
const mainTs = resolve(repoRoot, "src/main.ts");

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Environment for children: proxies removed (Bun honours them, and NO_PROXY cannot name 127.0.0.0/8). */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(https?|all|no)_proxy$/i.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Runs argv without a shell and collects its output; never throws for a non-zero exit. `env` is
 * the child's whole environment. Killed (SIGTERM) after timeoutMs: a test of "does not hang"
 * fails instead of hanging.
 */
export async function runCommand(
  argv: readonly string[],
  options: { env: Record<string, string>; cwd?: string | undefined; stdin?: string | undefined; timeoutMs?: number | undefined },
): Promise<CliResult> {
  const proc = Bun.spawn([...argv], {
    cwd: options.cwd,
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    env: options.env,
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

export async function sigmirror(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return runCommand([process.execPath, mainTs, ...args], { ...options, cwd: options.cwd ?? repoRoot, env: cleanEnv(options.env) });
}
