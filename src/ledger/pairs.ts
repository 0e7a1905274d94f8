// All verified pairs of a ledger, packed into typed arrays: ~920,000 rows for the full
// registry.k8s.io shape, where an object per row would cost several times the memory.

export interface PairRow {
  readonly hostId: number;
  readonly suffix: number;
  readonly digestId: number;
  readonly verifiedAt: number;
  readonly dueAt: number;
}

export class PairTable {
  private host = new Int32Array(1024);
  private suffix = new Uint8Array(1024);
  private digest = new Int32Array(1024);
  private verified = new Float64Array(1024);
  private due = new Float64Array(1024);
  private length = 0;
  /** subject id -> [start, end) in the arrays; rows of a subject are contiguous. */
  private readonly spans = new Map<number, number>();
  private readonly ends = new Map<number, number>();

  get size(): number {
    return this.length;
  }

  /** Rows must arrive grouped by subject (the primary key's order). */
  append(subjectId: number, row: PairRow): void {
    if (this.length === this.host.length) this.grow();
    const i = this.length++;
    this.host[i] = row.hostId;
    this.suffix[i] = row.suffix;
    this.digest[i] = row.digestId;
    this.verified[i] = row.verifiedAt;
    this.due[i] = row.dueAt;
    if (!this.spans.has(subjectId)) this.spans.set(subjectId, i);
    this.ends.set(subjectId, i + 1);
  }

  /** The hot path of a warm run (one call per pair): a plain loop, no generator. */
  find(subjectId: number, hostId: number, suffix: number): PairRow | undefined {
    const start = this.spans.get(subjectId);
    if (start === undefined) return undefined;
    const end = this.ends.get(subjectId) ?? start;
    for (let i = start; i < end; i++) {
      if (this.host[i] === hostId && this.suffix[i] === suffix) return this.row(i);
    }
    return undefined;
  }

  *of(subjectId: number): Generator<PairRow> {
    for (const i of this.indexes(subjectId)) yield this.row(i);
  }

  private *indexes(subjectId: number): Generator<number> {
    const start = this.spans.get(subjectId);
    if (start === undefined) return;
    const end = this.ends.get(subjectId) ?? start;
    for (let i = start; i < end; i++) yield i;
  }

  private row(i: number): PairRow {
    return {
      hostId: this.host[i] ?? 0,
      suffix: this.suffix[i] ?? 0,
      digestId: this.digest[i] ?? 0,
      verifiedAt: this.verified[i] ?? 0,
      dueAt: this.due[i] ?? 0,
    };
  }

  private grow(): void {
    const n = this.host.length * 2;
    const host = new Int32Array(n);
    host.set(this.host);
    this.host = host;
    const suffix = new Uint8Array(n);
    suffix.set(this.suffix);
    this.suffix = suffix;
    const digest = new Int32Array(n);
    digest.set(this.digest);
    this.digest = digest;
    const verified = new Float64Array(n);
    verified.set(this.verified);
    this.verified = verified;
    const due = new Float64Array(n);
    due.set(this.due);
    this.due = due;
  }
}
