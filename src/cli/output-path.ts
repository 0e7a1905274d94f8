// Where replicate and verify write their report and JUnit file: checked, and its directory made,
// before the first request, so a run's results are never lost to a path that cannot be written.
import { closeSync, constants, mkdirSync, openSync, statSync, unlinkSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { junitFileName, junitPath } from "../report/junit.ts";
import type { ParsedArgs } from "./args.ts";
import { UsageError } from "./exit.ts";

function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * The one rule for every output file: its directory is created (mkdir -p) and must take a new
 * file (the writers write a temporary file beside it, then rename); the path itself must not be a
 * directory or anything but a regular file, and an existing file must be writable. Returns the
 * absolute path; UsageError `<flag>: <path>: <why>` otherwise. Leaves no file behind.
 */
export function prepareOutputPath(flag: string, path: string): string {
  const bad = (why: string) => new UsageError(`${flag}: ${path}: ${why}`);
  if (path === "") throw new UsageError(`${flag}: expected a file path (got "")`);
  const absolute = resolve(path);
  let exists = true;
  try {
    const stats = statSync(absolute);
    if (stats.isDirectory()) throw bad("is a directory, expected a file");
    if (!stats.isFile()) throw bad("is not a regular file");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = codeOf(err);
    // ENOTDIR: a parent is a file; mkdir below names which.
    if (code !== "ENOENT" && code !== "ENOTDIR") throw bad(`cannot look at it (${code})`);
    exists = false;
  }
  if (exists) {
    try {
      // Opened for writing without O_TRUNC: what it holds is kept until the run writes it.
      closeSync(openSync(absolute, constants.O_WRONLY));
    } catch (err) {
      throw bad(`not writable (${codeOf(err)})`);
    }
  }
  const directory = dirname(absolute);
  try {
    mkdirSync(directory, { recursive: true });
  } catch (err) {
    const blocker = fileInTheWay(directory);
    throw bad(`cannot create its directory ${directory} (${blocker === undefined ? codeOf(err) : `${blocker} is not a directory`})`);
  }
  // Permission bits do not tell (root, read-only mounts, /proc): a file is made and removed.
  const probe = `${absolute}.probe-${process.pid}`;
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  } catch (err) {
    throw bad(`cannot create files in its directory ${directory} (${codeOf(err)})`);
  }
  unlinkSync(probe);
  return absolute;
}

/** The nearest existing ancestor of `directory` (itself included), when it is not a directory. */
function fileInTheWay(directory: string): string | undefined {
  for (let at = directory; ; at = dirname(at)) {
    try {
      return statSync(at).isDirectory() ? undefined : at;
    } catch {
      if (dirname(at) === at) return undefined;
    }
  }
}

export interface OutputPaths {
  readonly report: string | undefined;
  readonly junit: string | undefined;
}

/** `--report` and `--junit` (or its `$ARTIFACTS` default) prepared by the one rule; flags named as `<verb>: --flag`. */
export function prepareOutputs(verb: string, args: ParsedArgs, env: Readonly<Record<string, string | undefined>>): OutputPaths {
  const reportFlag = args.string("report");
  const junitFlag = args.string("junit");
  const junit = junitPath(env, junitFlag);
  const junitName = junitFlag !== undefined && junitFlag !== "" ? "--junit" : `--junit ($ARTIFACTS/${junitFileName})`;
  return {
    report: reportFlag === undefined ? undefined : prepareOutputPath(`${verb}: --report`, reportFlag),
    junit: junit === undefined ? undefined : prepareOutputPath(`${verb}: ${junitName}`, junit),
  };
}
