// Runs a command-line tool (openssl, htpasswd) without a shell and returns its stdout.
import { cleanEnv, runCommand } from "../lib/cli.ts";

export async function runTool(argv: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  const { code, out, err } = await runCommand(argv, { env: cleanEnv(), cwd: options.cwd });
  if (code !== 0) throw new Error(`${argv[0]} exited ${code}: ${err.trim().slice(-2000)}`);
  return out;
}
