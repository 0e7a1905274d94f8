// Where a ledger really is, and whether a run can write there: answered before anything is opened,
// so a refusal leaves nothing beside the file.
import { accessSync, constants, existsSync, lstatSync, readlinkSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { LedgerError } from "./errors.ts";

/** What SQLite and the run lock create beside a ledger. */
export const sideFiles = (real: string): string[] => [`${real}-wal`, `${real}-shm`, `${real}-journal`, `${real}.lock`];

/**
 * The file a ledger path names, symlinks (of the file and of its directories) resolved: the run
 * lock is derived from it, so two names of one file share one lock. A file not created yet is its
 * directory's real path and its name; a dangling symlink is followed to the file it will create.
 * (Hard links stay distinct names: nothing in a path tells them apart.)
 */
export function realLedgerPath(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!lstatSync(p).isSymbolicLink()) break;
      link = readlinkSync(p);
    } catch {
      break; // Nothing there: the file a run will create.
    }
    p = resolve(dirname(p), link);
  }
  try {
    return join(realpathSync(dirname(p)), basename(p));
  } catch {
    throw new LedgerError(path, `no such directory: ${dirname(p)}`, "missing");
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false; // EACCES, EROFS, EPERM: all mean a run cannot write it.
  }
}

/**
 * Refuses a ledger a run could not write: the file, its directory (the WAL, its index and the
 * lock are created there) and any of those already beside it. Checked up front: SQLite opens an
 * unwritable file read-only without a word, and fails only at the first write, mid-run.
 */
export function checkWritable(path: string, real: string): void {
  const dir = dirname(real);
  if (existsSync(real) && !writable(real)) throw new LedgerError(path, "not writable: a replicate run writes the ledger (check its mode and owner)", "readonly");
  if (!writable(dir)) {
    throw new LedgerError(path, `not writable: its directory ${dir} cannot be written (a run creates ${basename(real)}-wal and ${basename(real)}.lock there)`, "readonly");
  }
  for (const side of sideFiles(real)) {
    if (existsSync(side) && !writable(side)) throw new LedgerError(path, `not writable: ${side} beside it cannot be written (check its mode and owner)`, "readonly");
  }
}
