// The one door to SQLite. `node:sqlite` exists in Bun and in Deno, so the ledger runs on both;
// nothing here may use `bun:sqlite` or `Bun.*`.
import { DatabaseSync, type StatementSync } from "node:sqlite";

export type SqlValue = null | number | bigint | string | Uint8Array;
export type Row = Readonly<Record<string, SqlValue>>;

export interface Statement {
  run(...params: SqlValue[]): { changes: number; lastInsertRowid: number };
  get(...params: SqlValue[]): Row | undefined;
  all(...params: SqlValue[]): Row[];
  /** Row by row, each an array by column position: the large reads at open hold neither every row nor an object per row. */
  iterateArrays(...params: SqlValue[]): IterableIterator<readonly SqlValue[]>;
}

export interface Database {
  readonly path: string;
  exec(sql: string): void;
  /** Prepared once and cached by its text. */
  prepare(sql: string): Statement;
  /** BEGIN IMMEDIATE ... COMMIT, ROLLBACK when `fn` throws. Not reentrant. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export interface OpenOptions {
  readonly readOnly?: boolean;
  /** Milliseconds to wait for another connection's lock before SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
}

class NodeStatement implements Statement {
  constructor(private readonly inner: StatementSync) {}
  run(...params: SqlValue[]) {
    const r = this.inner.run(...params);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }
  get(...params: SqlValue[]): Row | undefined {
    this.inner.setReturnArrays(false);
    return this.inner.get(...params) as Row | undefined;
  }
  all(...params: SqlValue[]): Row[] {
    this.inner.setReturnArrays(false);
    return this.inner.all(...params) as Row[];
  }
  iterateArrays(...params: SqlValue[]): IterableIterator<readonly SqlValue[]> {
    this.inner.setReturnArrays(true);
    return this.inner.iterate(...params) as unknown as IterableIterator<readonly SqlValue[]>;
  }
}

class NodeDatabase implements Database {
  private readonly statements = new Map<string, Statement>();
  private inTransaction = false;
  constructor(
    readonly path: string,
    private readonly db: DatabaseSync,
  ) {}

  exec(sql: string): void {
    this.db.exec(sql);
  }

  prepare(sql: string): Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = new NodeStatement(this.db.prepare(sql));
      this.statements.set(sql, s);
    }
    return s;
  }

  transaction<T>(fn: () => T): T {
    if (this.inTransaction) throw new Error("sqlite: nested transaction");
    this.db.exec("BEGIN IMMEDIATE");
    this.inTransaction = true;
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (err) {
      // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM):
      // a ROLLBACK then fails with "no transaction is active", and must never replace the cause.
      if (this.db.isTransaction) {
        try {
          this.db.exec("ROLLBACK");
        } catch {
          // The first error is the one to report; the connection is closed by the caller.
        }
      }
      throw err;
    } finally {
      this.inTransaction = false;
    }
  }

  close(): void {
    this.statements.clear();
    if (this.db.isOpen) this.db.close();
  }
}

/** Opens (and for writers creates) the database file at `path`, or `:memory:`. */
export function openDatabase(path: string, options: OpenOptions = {}): Database {
  const db = new DatabaseSync(path, {
    readOnly: options.readOnly === true,
    timeout: options.busyTimeoutMs ?? 0,
    enableForeignKeyConstraints: true,
  });
  return new NodeDatabase(path, db);
}
