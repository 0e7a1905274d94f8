/** A value and when it stops being usable (ms since the epoch; Infinity: never). */
export interface Expiring<T> {
  readonly value: T;
  readonly expiresAt: number;
}

export interface RefreshingOptions {
  readonly now: () => number;
  /** How long before `expiresAt` to fetch a new value, given the value's lifetime in ms. */
  readonly marginMs?: (lifetimeMs: number) => number;
  /** After a failed refresh while the old value is still valid, keep it this long before trying again. */
  readonly retryAfterFailureMs?: number;
}

/**
 * One cached value, fetched again shortly before it expires. Concurrent callers share one
 * fetch. A failed refresh while the old value is still valid returns the old value (a token
 * endpoint hiccup does not fail a run whose token has minutes left); a failure with nothing
 * valid left is thrown to every caller waiting on that fetch, and not cached.
 */
export class Refreshing<T> {
  private current: { readonly value: T; readonly expiresAt: number; refreshAt: number } | undefined;
  private inflight: Promise<T> | undefined;
  private readonly marginMs: (lifetimeMs: number) => number;
  private readonly retryAfterFailureMs: number;

  constructor(
    private readonly fetchValue: () => Promise<Expiring<T>>,
    private readonly options: RefreshingOptions,
  ) {
    this.marginMs = options.marginMs ?? (() => 0);
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 10_000;
  }

  get(): Promise<T> {
    const now = this.options.now();
    const cur = this.current;
    if (cur !== undefined && now < cur.refreshAt) return Promise.resolve(cur.value);
    if (this.inflight === undefined) {
      const p = this.refresh();
      this.inflight = p;
      const clear = (): void => {
        if (this.inflight === p) this.inflight = undefined;
      };
      p.then(clear, clear);
    }
    return this.inflight;
  }

  /** Drops the cached value: the next `get` fetches (after a registry rejected it, say). */
  forget(): void {
    this.current = undefined;
  }

  private async refresh(): Promise<T> {
    const startedAt = this.options.now();
    try {
      const next = await this.fetchValue();
      const lifetime = next.expiresAt - startedAt;
      const margin = Number.isFinite(lifetime) ? Math.max(0, Math.min(this.marginMs(lifetime), lifetime)) : 0;
      this.current = { value: next.value, expiresAt: next.expiresAt, refreshAt: next.expiresAt - margin };
      return next.value;
    } catch (err) {
      const old = this.current;
      const now = this.options.now();
      if (old !== undefined && now < old.expiresAt) {
        old.refreshAt = Math.min(old.expiresAt, now + this.retryAfterFailureMs);
        return old.value;
      }
      throw err;
    }
  }
}
