import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { APPLICATION_ID, SCHEMA_VERSION, migrations } from "./schema.ts";
import { fold, MirrorSets } from "./settle.ts";
import { openDatabase, type Database } from "./sqlite.ts";
import { classify, LedgerError, sqliteErrorText, writeError } from "./errors.ts";
import { checkWritable, realLedgerPath } from "./paths.ts";

export { LedgerError, type LedgerProblem } from "./errors.ts";

const SQLITE_MAGIC = "SQLite format 3\0";

/** quick_check's report spans lines ("*** in database main ***\nTree 13 page 40 ..."): one line for the error. */
const oneLine = (text: string): string =>
  text
    .replace(/\*\*\* in database \w+ \*\*\*/g, "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .join("; ");

/** An error opening a file that passed the header checks: damage, permissions, a full disk, or else. */
function openError(path: string, err: unknown): LedgerError {
  if (classify(err) === "corrupt") return new LedgerError(path, `corrupt ledger: ${sqliteErrorText(err)}`, "corrupt");
  return writeError(path, err, "cannot open");
}

/**
 * Refuses what is not a sigmirror ledger of a schema we know, without writing a byte. `deep` adds
 * SQLite's quick_check (~0.1-0.2 s for the full k8s shape): every ledger a run opens gets it, since
 * a run reads only some pages (a warm one no pair at all) and would meet a damaged one mid-run,
 * after requests were sent and with the file open for writing.
 */
export function validateExisting(path: string, deep = false): void {
  const st = statSync(path);
  if (!st.isFile()) throw new LedgerError(path, "is not a regular file", "foreign");
  if (st.size === 0) return;
  const head = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString("latin1") !== SQLITE_MAGIC) throw new LedgerError(path, "not a SQLite database (not a sigmirror ledger)", "foreign");
  let db: Database | undefined;
  try {
    db = openDatabase(path, { readOnly: true, busyTimeoutMs: 2000 });
    const app = Number(db.prepare("PRAGMA application_id").get()?.["application_id"] ?? 0);
    const version = Number(db.prepare("PRAGMA user_version").get()?.["user_version"] ?? 0);
    if (app !== APPLICATION_ID) {
      const tables = Number(db.prepare("SELECT count(*) AS n FROM sqlite_master").get()?.["n"] ?? 0);
      if (tables > 0 || version !== 0) throw new LedgerError(path, "a SQLite database that is not a sigmirror ledger", "foreign");
      return;
    }
    if (version > SCHEMA_VERSION) {
      throw new LedgerError(path, `ledger schema ${version} is newer than this sigmirror supports (${SCHEMA_VERSION}); use a newer sigmirror`, "newer");
    }
    const check = deep ? db.prepare("PRAGMA quick_check(1)").get()?.["quick_check"] : "ok";
    if (check !== "ok") throw new LedgerError(path, `corrupt ledger (quick_check: ${oneLine(String(check))})`, "corrupt");
  } catch (err) {
    if (err instanceof LedgerError) throw err;
    throw new LedgerError(path, `corrupt or unreadable ledger: ${sqliteErrorText(err)}`, "corrupt");
  } finally {
    db?.close();
  }
}

function migrate(db: Database): void {
  const version = Number(db.prepare("PRAGMA user_version").get()?.["user_version"] ?? 0);
  if (version === SCHEMA_VERSION) return;
  // Schema 3 folds settled subjects' pairs (settle.ts) of a ledger that had pairs: once, here.
  const folding = version > 0 && version < 3;
  db.transaction(() => {
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(migrations[v] ?? "");
    if (folding) {
      const sets = new MirrorSets();
      const ids = db.prepare("SELECT subject_id FROM pairs UNION SELECT subject_id FROM referrer_pairs").all();
      for (const r of ids) fold(db, sets, Number(r["subject_id"]));
    }
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
  // The old tables' pages are free now: give them back (once; a run never frees that much again).
  if (folding) db.exec("VACUUM");
}

/**
 * The run lock: a sidecar SQLite file held in EXCLUSIVE locking mode. The OS drops the lock when the
 * process dies, however it dies, so nothing is ever left behind (unlike a PID file, and every pod is PID 1).
 * The ledger itself stays readable meanwhile (ledger stats, --dry-run).
 */
function takeRunLock(path: string, real: string): Database {
  const lockPath = `${real}.lock`;
  let lock: Database | undefined;
  try {
    lock = openDatabase(lockPath, { busyTimeoutMs: 0 });
    lock.exec("PRAGMA locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE");
    lock.exec("COMMIT");
    return lock;
  } catch (err) {
    lock?.close();
    if (classify(err) === "busy") throw new LedgerError(path, "in use by another sigmirror run (its lock file is held); try again when it ends", "busy");
    throw writeError(path, err, `cannot take the run lock ${lockPath}`);
  }
}

export interface OpenedLedger {
  readonly db: Database;
  close(): void;
}

/** Opens the ledger for a run that writes it: validated, locked, migrated, WAL. */
export function openForWrite(path: string): OpenedLedger {
  // Every check and open goes by the real file; messages name it as the user did.
  const real = realLedgerPath(path);
  checkWritable(path, real);
  if (existsSync(real)) validateExisting(path, true);
  const lock = takeRunLock(path, real);
  // Validate again under the lock: another run may have migrated it meanwhile (the cheap checks
  // only: a run that wrote it meanwhile left it whole, and quick_check twice doubles its cost).
  if (existsSync(real)) validateExisting(path);
  let db: Database | undefined;
  try {
    db = openDatabase(real, { busyTimeoutMs: 5000 });
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    migrate(db);
  } catch (err) {
    db?.close();
    lock.close();
    throw openError(path, err);
  }
  const opened = db;
  return {
    db: opened,
    close() {
      try {
        opened.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        // At rest in rollback mode: a read-only open of a WAL file (stats, a dry run, the checks
        // at open) leaves a -wal and -shm beside it, which it cannot delete. A reader still
        // holding it keeps it WAL (busy): harmless, so only briefly waited for.
        opened.exec("PRAGMA busy_timeout = 100");
        opened.exec("PRAGMA journal_mode = DELETE");
      } catch {
        // Housekeeping; the data is committed already.
      }
      opened.close();
      lock.close();
    },
  };
}

/** Opens an existing ledger read-only (stats, explain, dry runs); takes no lock. */
export function openForRead(path: string): OpenedLedger | undefined {
  if (!existsSync(path)) return undefined;
  validateExisting(path, true);
  if (statSync(path).size === 0) return undefined;
  try {
    const db = openDatabase(path, { readOnly: true, busyTimeoutMs: 5000 });
    if (Number(db.prepare("PRAGMA user_version").get()?.["user_version"] ?? 0) < SCHEMA_VERSION) {
      // An older schema: readable only after the next writing run migrates it.
      db.close();
      throw new LedgerError(path, "ledger schema is older than this sigmirror; a replicate run migrates it", "older");
    }
    return { db, close: () => db.close() };
  } catch (err) {
    if (err instanceof LedgerError) throw err;
    throw openError(path, err);
  }
}
