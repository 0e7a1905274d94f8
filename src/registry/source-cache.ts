// Verified source content, kept for the run: replicating one signature to 20 mirrors reads its
// manifest and blobs from the primary once, not 20 times (the primary's quota is shared with the
// signer). Content addressed and checked before it is kept, so a hit is as good as a GET.
// Concurrent readers of one digest share one request.

export class SourceCache<T> {
  private readonly entries = new Map<string, Promise<T | undefined>>();
  private readonly sizes = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly sizeOf: (value: T) => number,
    private readonly maxBytes: number = 64 << 20,
  ) {}

  /** `load` runs once per key while its answer is kept; failures and absences are not kept. */
  get(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Most recently used last: the oldest go first.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const pending = load().then(
      (value) => {
        const size = value === undefined ? 0 : this.sizeOf(value);
        if (value === undefined || size > this.maxBytes) this.forget(key);
        else this.keep(key, size);
        return value;
      },
      (err: unknown) => {
        this.forget(key);
        throw err;
      },
    );
    this.entries.set(key, pending);
    return pending;
  }

  private keep(key: string, size: number): void {
    this.sizes.set(key, size);
    this.total += size;
    for (const k of this.entries.keys()) {
      if (this.total <= this.maxBytes) break;
      if (k !== key && this.sizes.has(k)) this.forget(k);
    }
  }

  private forget(key: string): void {
    this.entries.delete(key);
    this.total -= this.sizes.get(key) ?? 0;
    this.sizes.delete(key);
  }

  get bytes(): number {
    return this.total;
  }
}
