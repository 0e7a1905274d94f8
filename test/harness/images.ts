// Pushes test content (images, indexes, cosign-shaped signatures and attestations) with plain
// fetch, so tests of the project's client do not depend on it. Same seed => same bytes.
import { createHash, randomUUID } from "node:crypto";
import { expectStatus, registryFetch } from "./http.ts";
import type { TestRegistry } from "./registry.ts";

export const mediaTypes = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  simpleSigning: "application/vnd.dev.cosign.simplesigning.v1+json",
  dsse: "application/vnd.dsse.envelope.v1+json",
} as const;

/** Every manifest type, for Accept: distribution 2.8 answers 404 for OCI content unless asked for it. */
export const manifestAccept = [
  mediaTypes.ociManifest,
  mediaTypes.ociIndex,
  mediaTypes.dockerManifest,
  mediaTypes.dockerList,
].join(", ");

export const signatureAnnotation = "dev.cosignproject.cosign/signature";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface Pushed {
  readonly digest: string;
  readonly mediaType: string;
  /** The manifest bytes exactly as pushed (sha256 of them = digest). */
  readonly bytes: Uint8Array;
  /** Digests of the blobs the manifest references (config first, then layers); none for an index. */
  readonly blobs: string[];
  /** Tag it was pushed under, if any. */
  readonly tag?: string;
}

const encoder = new TextEncoder();

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Cosign's tag for a subject: "sha256:<hex>" -> "sha256-<hex>.sig" (or .att, .sbom). */
export function sigTag(digest: string, suffix: "sig" | "att" | "sbom" = "sig"): string {
  if (!/^[a-z0-9]+:[a-f0-9]{32,}$/.test(digest)) throw new Error(`sigTag: not a digest: ${digest}`);
  return `${digest.replace(":", "-")}.${suffix}`;
}

/** Uploads one blob (monolithic POST + PUT); returns its digest. */
export async function pushBlob(reg: TestRegistry, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Digest(bytes);
  const post = await expectStatus(reg, `/v2/${repo}/blobs/uploads/`, { method: "POST" }, [202]);
  await post.arrayBuffer();
  const location = post.headers.get("location");
  if (!location) throw new Error(`POST blob upload on ${reg.host}/${repo}: no Location`);
  const put = new URL(location, reg.url);
  put.searchParams.set("digest", digest);
  const res = await expectStatus(
    reg,
    put.href,
    { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: bytes },
    [201],
  );
  await res.arrayBuffer();
  return digest;
}

/** PUTs manifest bytes under ref (tag or digest); checks the registry's digest. */
export async function pushManifestBytes(
  reg: TestRegistry,
  repo: string,
  ref: string,
  mediaType: string,
  bytes: Uint8Array,
): Promise<string> {
  const digest = sha256Digest(bytes);
  const res = await expectStatus(
    reg,
    `/v2/${repo}/manifests/${ref}`,
    { method: "PUT", headers: { "Content-Type": mediaType }, body: bytes },
    [201],
  );
  await res.arrayBuffer();
  const answered = res.headers.get("docker-content-digest");
  if (answered !== null && answered !== digest) {
    throw new Error(`PUT ${reg.host}/${repo}:${ref}: registry says ${answered}, bytes are ${digest}`);
  }
  return digest;
}

function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

async function pushManifest(
  reg: TestRegistry,
  repo: string,
  manifest: { mediaType: string } & Record<string, unknown>,
  blobs: string[],
  tag: string | undefined,
): Promise<Pushed> {
  const bytes = encodeJson(manifest);
  const digest = sha256Digest(bytes);
  await pushManifestBytes(reg, repo, tag ?? digest, manifest.mediaType, bytes);
  return { digest, mediaType: manifest.mediaType, bytes, blobs, ...(tag !== undefined ? { tag } : {}) };
}

async function pushJsonBlob(reg: TestRegistry, repo: string, mediaType: string, value: unknown): Promise<Descriptor> {
  const bytes = encodeJson(value);
  return { mediaType, digest: await pushBlob(reg, repo, bytes), size: bytes.length };
}

export interface ImageOptions {
  /** Tag to push under; without one the manifest is pushed by digest only. */
  tag?: string;
  /** Same seed => same digest; default random (every push distinct). */
  seed?: string;
  mediaType?: "oci" | "docker";
}

/** A small image: a config and one layer (not real tar+gzip: the registry does not look inside). */
export async function pushImage(reg: TestRegistry, repo: string, opts: ImageOptions = {}): Promise<Pushed> {
  const seed = opts.seed ?? randomUUID();
  const docker = opts.mediaType === "docker";
  const layerBytes = encoder.encode(`sigmirror test layer ${seed}\n`);
  const layer: Descriptor = {
    mediaType: docker ? mediaTypes.dockerLayer : mediaTypes.ociLayer,
    digest: await pushBlob(reg, repo, layerBytes),
    size: layerBytes.length,
  };
  const config = await pushJsonBlob(reg, repo, docker ? mediaTypes.dockerConfig : mediaTypes.ociConfig, {
    architecture: "amd64",
    os: "linux",
    config: { Labels: { "dev.sigmirror.test.seed": seed } },
    rootfs: { type: "layers", diff_ids: [sha256Digest(layerBytes)] },
  });
  const mediaType = docker ? mediaTypes.dockerManifest : mediaTypes.ociManifest;
  return pushManifest(reg, repo, { schemaVersion: 2, mediaType, config, layers: [layer] }, [config.digest, layer.digest], opts.tag);
}

const platforms = ["amd64", "arm64", "ppc64le", "s390x", "riscv64", "386", "arm"];

/** An OCI index over children already pushed to the same repository (platforms linux/amd64, arm64, ...). */
export async function pushIndex(
  reg: TestRegistry,
  repo: string,
  children: readonly Pushed[],
  opts: { tag?: string } = {},
): Promise<Pushed> {
  const manifests: Descriptor[] = children.map((c, i) => ({
    mediaType: c.mediaType,
    digest: c.digest,
    size: c.bytes.length,
    platform: { architecture: platforms[i % platforms.length] ?? "amd64", os: "linux" },
  }));
  return pushManifest(reg, repo, { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests }, [], opts.tag);
}

export interface SignatureOptions {
  /** Number of new signatures (layers) to add (default 1). */
  signatures?: number;
  seed?: string;
  /** Append to the layers of the current .sig manifest (re-signing), instead of replacing it. */
  keepExisting?: boolean;
}

interface LayerSpec {
  mediaType: string;
  payload: Uint8Array;
  annotations: Record<string, string>;
}

async function pushCosignObject(
  reg: TestRegistry,
  repo: string,
  subjectDigest: string,
  suffix: "sig" | "att" | "sbom",
  newLayers: LayerSpec[],
  keepExisting: boolean,
): Promise<Pushed> {
  const tag = sigTag(subjectDigest, suffix);
  const layers: Descriptor[] = [];
  if (keepExisting) {
    const current = await readManifest(reg, repo, tag);
    if (current) {
      const parsed: unknown = JSON.parse(new TextDecoder().decode(current.bytes));
      if (typeof parsed === "object" && parsed !== null && "layers" in parsed && Array.isArray(parsed.layers)) {
        layers.push(...(parsed.layers as Descriptor[]));
      }
    }
  }
  for (const l of newLayers) {
    layers.push({
      mediaType: l.mediaType,
      digest: await pushBlob(reg, repo, l.payload),
      size: l.payload.length,
      annotations: l.annotations,
    });
  }
  // cosign's config: an empty image config whose rootfs lists the layers.
  const config = await pushJsonBlob(reg, repo, mediaTypes.ociConfig, {
    architecture: "",
    created: "0001-01-01T00:00:00Z",
    history: [{ created: "0001-01-01T00:00:00Z" }],
    os: "",
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    config: {},
  });
  return pushManifest(
    reg,
    repo,
    { schemaVersion: 2, mediaType: mediaTypes.ociManifest, config, layers },
    [config.digest, ...layers.map((l) => l.digest)],
    tag,
  );
}

/** Deterministic stand-in for a signature (not verifiable: nothing here checks signatures). */
function fakeSignature(seed: string, payload: Uint8Array): string {
  return createHash("sha512").update(seed).update(payload).digest("base64");
}

/**
 * A cosign-shaped signature manifest under sha256-<hex>.sig: one simple-signing layer per
 * signature, annotated with dev.cosignproject.cosign/signature.
 */
export async function pushSignature(
  reg: TestRegistry,
  repo: string,
  subjectDigest: string,
  opts: SignatureOptions = {},
): Promise<Pushed> {
  const seed = opts.seed ?? randomUUID();
  const count = opts.signatures ?? 1;
  const layers: LayerSpec[] = [];
  for (let i = 0; i < count; i++) {
    const payload = encodeJson({
      critical: {
        identity: { "docker-reference": `${reg.host}/${repo}` },
        image: { "docker-manifest-digest": subjectDigest },
        type: "cosign container image signature",
      },
      optional: { "dev.sigmirror.test.seed": `${seed}/${i}` },
    });
    layers.push({
      mediaType: mediaTypes.simpleSigning,
      payload,
      annotations: { [signatureAnnotation]: fakeSignature(`${seed}/${i}`, payload) },
    });
  }
  return pushCosignObject(reg, repo, subjectDigest, "sig", layers, opts.keepExisting ?? false);
}

export interface AttestationOptions {
  attestations?: number;
  seed?: string;
  keepExisting?: boolean;
  predicateType?: string;
}

/** A cosign-shaped attestation manifest under sha256-<hex>.att: DSSE envelopes of in-toto statements. */
export async function pushAttestation(
  reg: TestRegistry,
  repo: string,
  subjectDigest: string,
  opts: AttestationOptions = {},
): Promise<Pushed> {
  const seed = opts.seed ?? randomUUID();
  const predicateType = opts.predicateType ?? "https://slsa.dev/provenance/v0.2";
  const layers: LayerSpec[] = [];
  for (let i = 0; i < (opts.attestations ?? 1); i++) {
    const statement = encodeJson({
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType,
      subject: [{ name: `${reg.host}/${repo}`, digest: { sha256: subjectDigest.replace(/^sha256:/, "") } }],
      predicate: { "dev.sigmirror.test.seed": `${seed}/${i}` },
    });
    const envelope = encodeJson({
      payloadType: "application/vnd.in-toto+json",
      payload: Buffer.from(statement).toString("base64"),
      signatures: [{ keyid: "", sig: fakeSignature(`${seed}/${i}`, statement) }],
    });
    layers.push({ mediaType: mediaTypes.dsse, payload: envelope, annotations: { predicateType } });
  }
  return pushCosignObject(reg, repo, subjectDigest, "att", layers, opts.keepExisting ?? false);
}

export interface ManifestRead {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

/** GET a manifest by tag or digest with the full Accept list; undefined when 404. */
export async function readManifest(reg: TestRegistry, repo: string, ref: string): Promise<ManifestRead | undefined> {
  const res = await expectStatus(reg, `/v2/${repo}/manifests/${ref}`, { headers: { Accept: manifestAccept } }, [200, 404]);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status === 404) return undefined;
  const digest = sha256Digest(bytes);
  const answered = res.headers.get("docker-content-digest");
  if (answered !== null && answered !== digest) {
    throw new Error(`GET ${reg.host}/${repo}:${ref}: registry says ${answered}, bytes are ${digest}`);
  }
  return { digest, mediaType: (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "", bytes };
}

/** DELETE a manifest by digest (distribution also drops every tag pointing at it). */
export async function deleteManifest(reg: TestRegistry, repo: string, digest: string): Promise<void> {
  const res = await expectStatus(reg, `/v2/${repo}/manifests/${digest}`, { method: "DELETE" }, [202]);
  await res.arrayBuffer();
}

/** Tags of repo (distribution 2.8 ignores n/last: one page); [] for an unknown repository. */
export async function listTags(reg: TestRegistry, repo: string): Promise<string[]> {
  const res = await expectStatus(reg, `/v2/${repo}/tags/list`, {}, [200, 404]);
  if (res.status === 404) {
    await res.arrayBuffer();
    return [];
  }
  const body: unknown = await res.json();
  if (typeof body === "object" && body !== null && "tags" in body && Array.isArray(body.tags)) {
    return body.tags.filter((t): t is string => typeof t === "string");
  }
  return [];
}

/** HEAD a blob: true when present. */
export async function blobExists(reg: TestRegistry, repo: string, digest: string): Promise<boolean> {
  const res = await expectStatus(reg, `/v2/${repo}/blobs/${digest}`, { method: "HEAD" }, [200, 404]);
  await res.arrayBuffer();
  return res.status === 200;
}

