// `--ledger-ref`: the ledger outlives the pod. Pulled at start into the local file (or a temporary
// one), pushed back at bounded intervals and at the end, older pushes deleted.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ledger } from "../ledger/ledger.ts";
import { deleteOlder, pullLedger, pushLedger, type StorePort } from "../ledger-store/store.ts";
import { formatLedgerRef, type LedgerRef } from "../ledger-store/ref.ts";
import { buildInfo } from "../version.ts";

export interface StoredLedgerLog {
  info(line: string): void;
  warn(line: string): void;
}

/** One run's dealings with the stored ledger. */
export class StoredLedger {
  /** Manifests we pushed or pulled, to delete once a newer push landed. */
  private readonly older = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private pushing: Promise<void> | undefined;
  private lastPushed: string | undefined;
  private failed = false;

  private constructor(
    readonly ref: LedgerRef,
    /** The local file the run uses. */
    readonly path: string,
    /** False when the stored ledger is of a newer schema: it must never be overwritten. */
    readonly pushable: boolean,
    private readonly tempDir: string | undefined,
    private readonly log: StoredLedgerLog,
  ) {}

  /**
   * Pulls the stored ledger into `localPath` when that file is absent or empty; a local ledger
   * given by hand is used as it is (it is validated like any other when opened).
   */
  static async start(port: StorePort, ref: LedgerRef, localPath: string | undefined, log: StoredLedgerLog): Promise<StoredLedger> {
    const where = formatLedgerRef(ref);
    const tempDir = localPath === undefined ? mkdtempSync(join(tmpdir(), "sigmirror-ledger-")) : undefined;
    const path = localPath ?? join(tempDir ?? ".", "state.db");
    if (existsSync(path) && statSync(path).size > 0) {
      log.info(`ledger: using the local ${path} as it is; not pulling ${where} (it is pushed there at the end)`);
      return new StoredLedger(ref, path, true, tempDir, log);
    }
    const pulled = await pullLedger(port, ref, path);
    const s = (pushable: boolean) => new StoredLedger(ref, path, pushable, tempDir, log);
    switch (pulled.kind) {
      case "missing":
        log.info(`ledger: nothing stored at ${where} yet: a cold start`);
        return s(true);
      case "pulled": {
        log.info(`ledger: pulled ${where} (${pulled.digest}, ${pulled.bytes} bytes)`);
        const st = s(true);
        st.older.add(pulled.digest);
        return st;
      }
      case "damaged": {
        log.warn(`ledger: the stored ${where} is damaged and ignored (${pulled.reason}): a cold start; the next push replaces it`);
        const st = s(true);
        if (pulled.digest !== undefined) st.older.add(pulled.digest);
        return st;
      }
      case "newer":
        log.warn(`ledger: the stored ${where} was written by a newer sigmirror (${pulled.reason}): this run goes without it and will not overwrite it`);
        return s(false);
    }
  }

  /** Pushes every `intervalMs` during a long run, so a killed pod loses at most that much. */
  every(intervalMs: number, ledger: Ledger, port: StorePort): void {
    if (!this.pushable || intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.pushing !== undefined) return;
      this.pushing = this.push(ledger, port)
        .then(() => undefined)
        .finally(() => (this.pushing = undefined));
    }, intervalMs);
    this.timer.unref?.();
  }

  /** Stops the interval and waits for a push in flight. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.pushing;
  }

  /** Snapshots (a consistent copy, no WAL) and pushes; true when it landed. */
  async push(ledger: Ledger, port: StorePort): Promise<boolean> {
    if (!this.pushable) return false;
    const dir = mkdtempSync(join(tmpdir(), "sigmirror-snapshot-"));
    try {
      const snapshot = join(dir, "snapshot.db");
      if (!ledger.snapshotTo(snapshot)) return false;
      const pushed = await pushLedger(port, this.ref, snapshot, {
        "org.opencontainers.image.created": new Date().toISOString(),
        "dev.sigmirror.version": buildInfo.version,
      });
      this.log.info(`ledger: pushed ${formatLedgerRef(this.ref)} (${pushed.digest}, ${pushed.bytes} bytes compressed)`);
      if (this.lastPushed !== undefined) this.older.add(this.lastPushed);
      this.lastPushed = pushed.digest;
      for (const problem of await deleteOlder(port, this.ref, this.older, pushed.digest)) {
        this.log.warn(`ledger: an older stored ledger was not deleted: ${problem}`);
      }
      this.older.clear();
      this.failed = false;
      return true;
    } catch (err) {
      this.failed = true;
      this.log.warn(`ledger: push to ${formatLedgerRef(this.ref)} failed: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The last push failed: the next pod starts colder than it could. */
  get pushFailed(): boolean {
    return this.failed;
  }

  /** Removes the temporary local copy, if the run made one. */
  dispose(): void {
    if (this.tempDir !== undefined) rmSync(this.tempDir, { recursive: true, force: true });
  }
}
