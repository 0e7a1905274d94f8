// What the ledger loads of every subject's family tags and referrers, kept small: 92,000 subjects
// at 2x the k8s shape. Digests sit as raw bytes in one pool and become text when asked for (a warm
// run asks for none of them); one small object per subject's tags instead of a Map.
import { FAMILIES, type Suffix } from "./codes.ts";
import { blobToDigest } from "./digest.ts";
import type { LedgerReferrer } from "./types.ts";

/** sha256 digests as their 32 bytes, back to back; a digest is its offset here. */
export class DigestPool {
  private bytes = new Uint8Array(0);
  private used = 0;

  /** A stored digest value: its offset for 32 bytes (sha256), else its text. */
  add(value: Uint8Array): number | string {
    if (value.length !== 32) return blobToDigest(value);
    if (this.used + 32 > this.bytes.length) {
      const grown = new Uint8Array(Math.max(1 << 16, this.bytes.length * 2));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(value, this.used);
    this.used += 32;
    return this.used - 32;
  }

  text(ref: number | string): string {
    if (typeof ref === "string") return ref;
    return blobToDigest(this.bytes.subarray(ref, ref + 32));
  }
}

type Ref = number | string | undefined;

export class FamilyTags implements ReadonlyMap<Suffix, string> {
  private s0: Ref;
  private s1: Ref;
  private s2: Ref;

  constructor(private readonly pool: DigestPool) {}

  /** Only while loading: the map is read-only once handed out. */
  put(suffix: Suffix, ref: number | string): void {
    const i = FAMILIES.indexOf(suffix);
    if (i === 0) this.s0 = ref;
    else if (i === 1) this.s1 = ref;
    else this.s2 = ref;
  }

  private ref(i: number): Ref {
    return i === 0 ? this.s0 : i === 1 ? this.s1 : i === 2 ? this.s2 : undefined;
  }

  get(suffix: Suffix): string | undefined {
    const r = this.ref(FAMILIES.indexOf(suffix));
    return r === undefined ? undefined : this.pool.text(r);
  }

  has(suffix: Suffix): boolean {
    return this.ref(FAMILIES.indexOf(suffix)) !== undefined;
  }

  get size(): number {
    return [this.s0, this.s1, this.s2].filter((r) => r !== undefined).length;
  }

  *entries(): MapIterator<[Suffix, string]> {
    for (let i = 0; i < FAMILIES.length; i++) {
      const r = this.ref(i);
      const f = FAMILIES[i];
      if (r !== undefined && f !== undefined) yield [f, this.pool.text(r)];
    }
  }

  *keys(): MapIterator<Suffix> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[Suffix, string]> {
    return this.entries();
  }

  forEach(fn: (value: string, key: Suffix, map: ReadonlyMap<Suffix, string>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/** Shared by every subject without a family tag. */
export const noFamilyTags: ReadonlyMap<Suffix, string> = new FamilyTags(new DigestPool());

/** A referrer as loaded: its digest text made when asked. */
export class PooledReferrer implements LedgerReferrer {
  constructor(
    private readonly pool: DigestPool,
    private readonly ref: number | string,
    readonly of: string,
    readonly artifactType: string,
  ) {}

  get digest(): string {
    return this.pool.text(this.ref);
  }
}
