// Ledger errors: one line naming the file, with a problem a caller can act on (exit 2 at open,
// a failed run after a failed write). SQLite errors are classified here, from what both Bun
// (errcode + message) and Deno (message only) give us.

/** A ledger file we must not, or cannot, use. */
export type LedgerProblem =
  | "foreign"
  | "corrupt"
  | "newer"
  | "older"
  | "busy"
  | "missing"
  /** The file or its directory cannot be written (permissions, read-only mount). */
  | "readonly"
  /** SQLITE_FULL: the filesystem (or a quota) is full. */
  | "full"
  | "io";

export class LedgerError extends Error {
  override readonly name = "LedgerError";
  constructor(
    readonly path: string,
    what: string,
    readonly problem: LedgerProblem = "io",
  ) {
    super(`${path}: ${what}`);
  }
}

/** The first line of an error's message: SQLite's own text, never a stack or a second line. */
export function sqliteErrorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "unknown error";
}

/** Primary SQLite result codes we tell apart (extended codes carry them in the low byte). */
const CODES: Readonly<Record<number, LedgerProblem>> = { 5: "busy", 6: "busy", 8: "readonly", 11: "corrupt", 13: "full", 14: "readonly", 26: "corrupt" };

/** Message patterns, for runtimes whose errors carry no code (Deno's node:sqlite). */
const PATTERNS: readonly (readonly [RegExp, LedgerProblem])[] = [
  [/database or disk is full|SQLITE_FULL|ENOSPC|no space left/i, "full"],
  [/readonly database|read-only|SQLITE_READONLY|unable to open database file|SQLITE_CANTOPEN|EACCES|EROFS|permission denied/i, "readonly"],
  [/malformed|not a database|corrupt/i, "corrupt"],
  [/database is locked|database table is locked|SQLITE_BUSY/i, "busy"],
];

/** What kind of failure an error from SQLite (or the filesystem under it) is. */
export function classify(err: unknown): LedgerProblem {
  const code = typeof err === "object" && err !== null && "errcode" in err && typeof err.errcode === "number" ? err.errcode & 0xff : undefined;
  const byCode = code === undefined ? undefined : CODES[code];
  if (byCode !== undefined) return byCode;
  const text = sqliteErrorText(err);
  return PATTERNS.find(([re]) => re.test(text))?.[1] ?? "io";
}

/** True for errors raised by node:sqlite (in Bun and Deno alike), as opposed to our own bugs. */
export function isSqliteError(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === "ERR_SQLITE_ERROR";
}

/**
 * A failed write as the one line a run reports. `doing` says what was being done ("cannot write
 * the ledger"); the classification leads, so an operator reads "disk full" first.
 */
export function writeError(path: string, err: unknown, doing: string): LedgerError {
  if (err instanceof LedgerError) return err;
  const problem = classify(err);
  const text = sqliteErrorText(err);
  switch (problem) {
    case "full":
      return new LedgerError(path, `disk full: ${doing} (${text})`, "full");
    case "readonly":
      return new LedgerError(path, `not writable: ${doing} (${text})`, "readonly");
    case "corrupt":
      return new LedgerError(path, `corrupt ledger: ${doing} (${text})`, "corrupt");
    default:
      return new LedgerError(path, `${doing}: ${text}`, problem);
  }
}
