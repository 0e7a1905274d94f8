// A promotion on real distribution registries for the request benchmarks: a primary and N
// mirrors on loopback, several digests per repository (as on registry.k8s.io, so per-repository
// batching is exercised), images on every host, signatures on the primary only, and a thin
// manifest tree (test/lib/scenario.ts's writer) naming them all. With `attest`, each signed image
// also gets kpromo's provenance attestation as an OCI 1.1 referrer on the primary (lib-referrers.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pushImage, pushIndex, pushSignature, startRegistry, type AccessEntry, type Pushed, type TestRegistry } from "../test/harness/index.ts";
import { PROJECT_PATH, writeThinManifests } from "../test/lib/scenario.ts";
import { listedOn, pushAttestationReferrer, type PushedReferrer } from "./lib-referrers.ts";

export interface PromotedImage {
  /** Image name in images.yaml; the repository is `prod/<name>` on every host. */
  readonly name: string;
  readonly tag: string;
  readonly digest: string;
  /** The digest and, for an index, its children: every subject that has a signature once signed. */
  readonly subjects: readonly string[];
  signed: boolean;
}

/** Request kinds, from the access log's method and path. */
export type RequestKind = "ping" | "tags" | "manifest HEAD" | "manifest GET" | "manifest PUT" | "blob" | "upload" | "other";

export function kindOf(e: AccessEntry): RequestKind {
  const path = e.path.split("?")[0] ?? e.path;
  if (path === "/v2/" || path === "/v2") return "ping";
  if (path.endsWith("/tags/list")) return "tags";
  if (path.includes("/manifests/")) {
    if (e.method === "HEAD") return "manifest HEAD";
    if (e.method === "GET") return "manifest GET";
    if (e.method === "PUT") return "manifest PUT";
    return "other";
  }
  if (path.includes("/blobs/uploads")) return "upload";
  if (path.includes("/blobs/")) return "blob";
  return "other";
}

/**
 * Part of copying a signature rather than checking one: on a mirror the blob checks, uploads and
 * the manifest PUT; on the primary the reads of blobs and of manifests other than the promoted
 * images' own (those are the read of an index's children; a signature is read by its digest).
 */
export function isCopyRequest(e: AccessEntry, onPrimary: boolean, subjects: ReadonlySet<string>): boolean {
  const kind = kindOf(e);
  if (!onPrimary) return kind === "blob" || kind === "upload" || kind === "manifest PUT";
  if (kind === "blob") return true;
  const ref = /\/manifests\/([^/?]+)$/.exec(e.path)?.[1];
  if (ref === undefined) return false;
  const name = decodeURIComponent(ref);
  // The primary's referrers fallback index is read to learn what is there: a check, not a copy.
  return kind === "manifest GET" && !subjects.has(name) && !/^sha256-[0-9a-f]{64}$/.test(name);
}

export function kindCounts(entries: readonly AccessEntry[]): Map<RequestKind, number> {
  const out = new Map<RequestKind, number>();
  for (const e of entries) out.set(kindOf(e), (out.get(kindOf(e)) ?? 0) + 1);
  return out;
}

export function kindText(entries: readonly AccessEntry[]): string {
  const parts = [...kindCounts(entries)].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

async function inBatches<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

export interface NewImage {
  readonly name: string;
  readonly tag: string;
  /** An OCI index of two platform children (each child signed too). */
  readonly index?: boolean;
  /** Push its signatures now (default true); otherwise later with sign(). */
  readonly sign?: boolean;
}

export class Promotion {
  readonly images: PromotedImage[] = [];
  /** The attestation referrers pushed to the primary, in order. */
  readonly attestations: PushedReferrer[] = [];

  private constructor(
    readonly primary: TestRegistry,
    readonly mirrors: readonly TestRegistry[],
    readonly dir: string,
    /** Sign with a provenance attestation referrer too (kpromo's reality). */
    readonly attest: boolean,
  ) {}

  get all(): readonly TestRegistry[] {
    return [this.primary, ...this.mirrors];
  }

  get thinDir(): string {
    return join(this.dir, "manifests");
  }

  static async start(mirrorCount: number, o: { attest?: boolean } = {}): Promise<Promotion> {
    const started: TestRegistry[] = [];
    const dir = mkdtempSync(join(tmpdir(), "sigmirror-bench-"));
    try {
      for (let i = 0; i <= mirrorCount; i++) started.push(await startRegistry());
      const [primary, ...mirrors] = started;
      if (primary === undefined) throw new Error("no primary");
      return new Promotion(primary, mirrors, dir, o.attest === true);
    } catch (err) {
      for (const r of started) await r.stop();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Label for printing: primary, mirror1, ... */
  label(host: string): string {
    if (host === this.primary.host) return "primary";
    const i = this.mirrors.findIndex((m) => m.host === host);
    return i < 0 ? host : `mirror${i + 1}`;
  }

  private async onAll(fn: (r: TestRegistry) => Promise<Pushed>): Promise<Pushed> {
    const pushed = await Promise.all(this.all.map(fn));
    const first = pushed[0];
    if (first === undefined || pushed.some((p) => p.digest !== first.digest)) throw new Error("bench: hosts disagree on a digest");
    return first;
  }

  /** Promotes images to every host (several at once) and signs them on the primary. */
  async add(list: readonly NewImage[]): Promise<PromotedImage[]> {
    const added: PromotedImage[] = [];
    await inBatches(list, 6, async (n) => {
      const repository = `${PROJECT_PATH}/${n.name}`;
      const seed = `${n.name}:${n.tag}:${this.dir}`;
      let image: Pushed;
      const children: Pushed[] = [];
      if (n.index === true) {
        for (const arch of ["amd64", "arm64"]) children.push(await this.onAll((r) => pushImage(r, repository, { seed: `${seed}:${arch}` })));
        image = await this.onAll((r) => pushIndex(r, repository, children, { tag: n.tag }));
      } else {
        image = await this.onAll((r) => pushImage(r, repository, { seed, tag: n.tag }));
      }
      const entry: PromotedImage = { name: n.name, tag: n.tag, digest: image.digest, subjects: [image.digest, ...children.map((c) => c.digest)], signed: false };
      if (n.sign !== false) await this.sign(entry);
      added.push(entry);
    });
    this.images.push(...added);
    return added;
  }

  async sign(entry: PromotedImage): Promise<void> {
    const repository = `${PROJECT_PATH}/${entry.name}`;
    for (const s of entry.subjects) await pushSignature(this.primary, repository, s);
    // kpromo attests the promoted digest (an index's, not each child's).
    if (this.attest) await this.attestOne(entry, `provenance:${entry.tag}`);
    entry.signed = true;
  }

  /** One more attestation referrer of the image on the primary (its fallback index extended). */
  async attestOne(entry: PromotedImage, seed: string, predicateType?: string): Promise<PushedReferrer> {
    const r = await pushAttestationReferrer(this.primary, `${PROJECT_PATH}/${entry.name}`, entry.digest, {
      seed: `${seed}:${entry.name}:${this.dir}`,
      ...(predicateType === undefined ? {} : { predicateType }),
    });
    this.attestations.push(r);
    return r;
  }

  /** Digests of the attestation referrers, and of their blobs. */
  referrerDigests(): Set<string> {
    return new Set(this.attestations.map((a) => a.digest));
  }

  referrerBlobs(): Set<string> {
    return new Set(this.attestations.flatMap((a) => a.blobs));
  }

  /** How many (mirror, attestation) pairs a reader finds: served by digest and listed in the mirror's fallback index. */
  async listedReferrerPairs(which: readonly PushedReferrer[] = this.attestations): Promise<number> {
    let n = 0;
    for (const a of which) {
      const img = this.images.find((i) => i.digest === a.subject);
      if (img === undefined) continue;
      for (const r of this.mirrors) if (await listedOn(r, `${PROJECT_PATH}/${img.name}`, a)) n++;
    }
    return n;
  }

  /** images.yaml with every image so far (each host a destination; the primary is one of them). */
  writeManifests(): void {
    writeThinManifests(
      this.thinDir,
      this.all.map((r) => r.host),
      this.images.map((i) => ({ name: i.name, digest: i.digest, tag: i.tag })),
    );
  }

  /** Every promoted digest and index child. */
  subjects(): Set<string> {
    return new Set(this.images.flatMap((i) => i.subjects));
  }

  get subjectCount(): number {
    return this.images.reduce((n, i) => n + i.subjects.length, 0);
  }

  async clearLogs(): Promise<void> {
    await Promise.all(this.all.map((r) => r.clearLog()));
  }

  /** Every request each registry answered since the last clearLogs(), by host. */
  async logs(): Promise<Map<string, AccessEntry[]>> {
    const entries = await Promise.all(this.all.map(async (r) => [r.host, await r.accessLog()] as const));
    return new Map(entries);
  }

  async stop(): Promise<void> {
    for (const r of this.all) await r.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
