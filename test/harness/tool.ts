// Runs a command-line tool (openssl, htpasswd) without a shell and returns its stdout.
import { cleanEnv } from "../lib/cli.ts";

export async function runTool(argv: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  const proc = Bun.spawn([...argv], {
    cwd: options.cwd,
    env: cleanEnv(),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${argv[0]} exited ${code}: ${err.trim().slice(-2000)}`);
  return out;
}
