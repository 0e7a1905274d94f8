// An in-memory RegistryPort for the engine's tests: hosts of repositories of tags and manifests,
// a log of every call, and hooks to reach orderings a real registry run cannot (a tag moving
// between a read and a write, a host that never answers, a listing that lies).
import { createHash } from "node:crypto";
import type { EngineOptions } from "./engine.ts";
import type { Descriptor, ManifestBytes, Referrer, Referrers, RegistryPort, TagList } from "./port.ts";
import { defaultSelection } from "./referrer-selection.ts";
import { defaultSchedule } from "./schedule.ts";

/** Engine options for tests: replicate, default schedule and referrers, `now` from the caller's clock. */
export function testEngineOptions(now: () => number, over: Partial<EngineOptions> = {}): EngineOptions {
  return {
    verb: "replicate",
    suffixes: ["sig"],
    referrers: defaultSelection,
    schedule: defaultSchedule,
    dryRun: false,
    forceOverwrite: false,
    maxOverwrites: 10,
    checkUnsigned: false,
    stopping: () => false,
    now,
    random: () => 0,
    hostConcurrency: () => 4,
    giveUpAfter: 5,
    repositoryConcurrency: 2,
    flushEvery: 2000,
    isHostFailure: () => false,
    ...over,
  };
}

const oci = "application/vnd.oci.image.manifest.v1+json";
const ociIndex = "application/vnd.oci.image.index.v1+json";

export interface Call {
  readonly op: "head" | "get" | "list" | "copy" | "referrers" | "put";
  readonly host: string;
  readonly repository: string;
  readonly reference: string;
}

interface Repo {
  readonly tags: Map<string, string>;
  readonly manifests: Map<string, { readonly bytes: Uint8Array; readonly mediaType: string }>;
}

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A cosign-shaped signature manifest whose layers are `layers` (re-signing appends one). */
export function signatureManifest(...layers: string[]): Uint8Array {
  const body = {
    schemaVersion: 2,
    mediaType: oci,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${"c".repeat(64)}`, size: 2 },
    layers: layers.map((l) => ({ mediaType: "application/vnd.dev.cosign.simplesigning.v1+json", digest: `sha256:${createHash("sha256").update(l).digest("hex")}`, size: 1 })),
  };
  return new TextEncoder().encode(JSON.stringify(body));
}

export function imageManifest(name: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: oci, config: { digest: `sha256:${"d".repeat(64)}`, size: 2 }, layers: [], annotations: { name } }));
}

export function indexManifest(children: readonly string[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: ociIndex, manifests: children.map((digest) => ({ mediaType: oci, digest, size: 1 })) }));
}

/** A referrers fallback index, as cosign and oras write one: each entry with its artifactType. */
export function referrersIndex(entries: readonly { digest: string; artifactType: string }[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: ociIndex, manifests: entries.map((e) => ({ mediaType: oci, digest: e.digest, size: 1, artifactType: e.artifactType })) }),
  );
}

/** A referrer manifest (a bundle, an attestation) of `subject`, as cosign v3 writes one. */
export function referrerManifest(subject: string, artifactType: string, seed: string): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: oci,
      artifactType,
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: `sha256:${"4".repeat(64)}`, size: 2 },
      layers: [{ mediaType: artifactType, digest: `sha256:${createHash("sha256").update(seed).digest("hex")}`, size: 1 }],
      subject: { mediaType: oci, digest: subject, size: 1 },
      annotations: { "dev.sigstore.bundle.content": "dsse-envelope", seed },
    }),
  );
}

/** The `sha256-<hex>` referrers fallback tag. */
export const fallbackTag = (digest: string): string => digest.replace(":", "-");

export type Hook = (call: Call) => Promise<void> | void;

export class MemoryRegistry implements RegistryPort {
  private readonly hosts = new Map<string, Map<string, Repo>>();
  readonly calls: Call[] = [];
  /** Runs before each call is answered (await it to hold the call). */
  before: Hook | undefined;
  /** Per host: what tags/list answers instead of the truth ("404": as for an unknown repository). */
  readonly listingLies = new Map<string, "404" | "empty">();
  /** Hosts that answer the referrers API; the others answer it 404 (the fallback tag applies). */
  readonly referrersApi = new Set<string>();
  private inFlight = 0;

  get active(): number {
    return this.inFlight;
  }

  private repo(host: string, repository: string): Repo {
    let byRepo = this.hosts.get(host);
    if (byRepo === undefined) this.hosts.set(host, (byRepo = new Map()));
    let r = byRepo.get(repository);
    if (r === undefined) byRepo.set(repository, (r = { tags: new Map(), manifests: new Map() }));
    return r;
  }

  /** Stores a manifest (and the tag, when given); returns its digest. */
  put(host: string, repository: string, bytes: Uint8Array, tag?: string): string {
    const digest = digestOf(bytes);
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string };
    const r = this.repo(host, repository);
    r.manifests.set(digest, { bytes, mediaType: body.mediaType ?? oci });
    if (tag !== undefined) r.tags.set(tag, digest);
    return digest;
  }

  tagDigest(host: string, repository: string, tag: string): string | undefined {
    return this.hosts.get(host)?.get(repository)?.tags.get(tag);
  }

  private async enter(call: Call): Promise<void> {
    this.calls.push(call);
    this.inFlight++;
    try {
      await this.before?.(call);
    } catch (err) {
      this.inFlight--;
      throw err;
    }
  }

  private resolve(host: string, repository: string, reference: string): { digest: string; bytes: Uint8Array; mediaType: string } | undefined {
    const r = this.hosts.get(host)?.get(repository);
    if (r === undefined) return undefined;
    const digest = reference.startsWith("sha256:") ? reference : r.tags.get(reference);
    const m = digest === undefined ? undefined : r.manifests.get(digest);
    return digest === undefined || m === undefined ? undefined : { digest, ...m };
  }

  async headManifest(host: string, repository: string, reference: string): Promise<Descriptor | undefined> {
    await this.enter({ op: "head", host, repository, reference });
    try {
      const m = this.resolve(host, repository, reference);
      return m === undefined ? undefined : { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length };
    } finally {
      this.inFlight--;
    }
  }

  async getManifest(host: string, repository: string, reference: string): Promise<ManifestBytes | undefined> {
    await this.enter({ op: "get", host, repository, reference });
    try {
      return this.resolve(host, repository, reference);
    } finally {
      this.inFlight--;
    }
  }

  async listTags(host: string, repository: string): Promise<TagList | undefined> {
    await this.enter({ op: "list", host, repository, reference: "" });
    try {
      const lie = this.listingLies.get(host);
      if (lie === "404") return undefined;
      if (lie === "empty") return { tags: [], complete: true };
      const r = this.hosts.get(host)?.get(repository);
      return r === undefined ? undefined : { tags: [...r.tags.keys()], complete: true };
    } finally {
      this.inFlight--;
    }
  }

  private descriptorOf(digest: string, bytes: Uint8Array, mediaType: string): Referrer {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { artifactType?: string; config?: { mediaType?: string }; annotations?: Record<string, string> };
    const artifactType = body.artifactType ?? body.config?.mediaType;
    return {
      digest,
      mediaType,
      size: bytes.length,
      ...(artifactType === undefined ? {} : { artifactType }),
      ...(body.annotations === undefined ? {} : { annotations: body.annotations }),
    };
  }

  async referrers(host: string, repository: string, digest: string): Promise<Referrers> {
    await this.enter({ op: "referrers", host, repository, reference: digest });
    try {
      const r = this.hosts.get(host)?.get(repository);
      if (this.referrersApi.has(host)) {
        const out: Referrer[] = [];
        for (const [d, m] of r?.manifests ?? []) {
          const body = JSON.parse(new TextDecoder().decode(m.bytes)) as { subject?: { digest?: string } };
          if (body.subject?.digest === digest) out.push(this.descriptorOf(d, m.bytes, m.mediaType));
        }
        return { referrers: out, via: "api" };
      }
      const index = this.resolve(host, repository, fallbackTag(digest));
      if (index === undefined) return { referrers: [], via: "tag" };
      const body = JSON.parse(new TextDecoder().decode(index.bytes)) as { manifests?: Referrer[] };
      return { referrers: body.manifests ?? [], via: "tag" };
    } finally {
      this.inFlight--;
    }
  }

  async putManifest(host: string, repository: string, reference: string, bytes: Uint8Array, _mediaType: string): Promise<string> {
    await this.enter({ op: "put", host, repository, reference });
    try {
      // Like distribution 2.8: an index naming a manifest the repository lacks is refused.
      const body = JSON.parse(new TextDecoder().decode(bytes)) as { manifests?: { digest: string }[] };
      for (const m of body.manifests ?? []) {
        if (this.resolve(host, repository, m.digest) === undefined) throw new Error(`${host}: 400 MANIFEST_BLOB_UNKNOWN ${m.digest}`);
      }
      return this.put(host, repository, bytes, reference.startsWith("sha256:") ? undefined : reference);
    } finally {
      this.inFlight--;
    }
  }

  async copy(src: { host: string; repository: string }, dst: { host: string; repository: string }, tag: string, digest: string): Promise<{ digest: string }> {
    await this.enter({ op: "copy", host: dst.host, repository: dst.repository, reference: tag });
    try {
      const m = this.resolve(src.host, src.repository, digest);
      if (m === undefined) throw new Error(`${src.host}: ${digest} not found`);
      this.put(dst.host, dst.repository, m.bytes, tag.startsWith("sha256:") ? undefined : tag);
      return { digest };
    } finally {
      this.inFlight--;
    }
  }
}
