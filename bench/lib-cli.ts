// Shared by the request and scale benchmarks: the binary under test, a child-process runner
// (proxies removed, optional /usr/bin/time), and small printing helpers.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { cleanEnv } from "../test/lib/cli.ts";

export const root = resolve(import.meta.dir, "..");

/** dist/sigmirror (or SIGMIRROR_BIN), built with the project's own build.ts when missing. */
export function sigmirrorBinary(): string {
  const chosen = process.env["SIGMIRROR_BIN"];
  if (chosen !== undefined && chosen !== "") return resolve(chosen);
  const binary = join(root, "dist/sigmirror");
  if (!existsSync(binary)) {
    console.log(`bench: ${binary} missing, building it: node_modules/.bin/bun build.ts`);
    const r = Bun.spawnSync([process.execPath, "build.ts"], { cwd: root, env: cleanEnv(), stdout: "inherit", stderr: "inherit" });
    if (r.exitCode !== 0 || !existsSync(binary)) throw new Error(`bench: build.ts failed (exit ${r.exitCode})`);
  }
  return binary;
}

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** Wall time seen from here (spawn to exit). */
  readonly ms: number;
  /** From /usr/bin/time when asked for: elapsed seconds, peak RSS in KiB, user + system CPU seconds. */
  readonly time?: { readonly seconds: number; readonly maxRssKiB: number; readonly cpuSeconds: number };
}

const gnuTime = "/usr/bin/time";
export const hasGnuTime = existsSync(gnuTime);

/** Runs the binary asynchronously (the bench process keeps serving its own listeners meanwhile). */
export async function runSigmirror(
  binary: string,
  args: readonly string[],
  o: { env?: Record<string, string>; measure?: boolean } = {},
): Promise<CliRun> {
  const measure = o.measure === true && hasGnuTime;
  // A marker line: GNU time appends after whatever the program wrote to stderr.
  const argv = measure ? [gnuTime, "-f", "\nbench-time %e %M %U %S", binary, ...args] : [binary, ...args];
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { cwd: root, env: cleanEnv(o.env), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, errAll, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const ms = performance.now() - t0;
  if (!measure) return { code, out, err: errAll, ms };
  const m = /\nbench-time ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(errAll);
  const err = m === null ? errAll : errAll.slice(0, m.index);
  return m === null ? { code, out, err, ms } : { code, out, err, ms, time: { seconds: Number(m[1]), maxRssKiB: Number(m[2]), cpuSeconds: Number(m[3]) + Number(m[4]) } };
}

/** A command line a reader can paste (single-quoted where needed). */
export function shellLine(words: readonly string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`)).join(" ");
}

export function ratio(a: number, b: number): string {
  return b === 0 ? (a === 0 ? "0/0" : "inf") : `${(a / b).toFixed(3)}`;
}

export function pad(s: string | number, width: number): string {
  const t = String(s);
  return t.length >= width ? t : " ".repeat(width - t.length) + t;
}

/** Fails the bench loudly: a figure from a broken run is worth nothing. */
export function expectExit(what: string, r: CliRun, codes: readonly number[] = [0]): void {
  if (!codes.includes(r.code)) {
    throw new Error(`${what}: sigmirror exited ${r.code}\n${r.err.split("\n").slice(-30).join("\n")}`);
  }
}
