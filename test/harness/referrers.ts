// OCI 1.1 referrers on a registry without the referrers API (distribution 2.8), written as cosign
// v3 writes a Sigstore bundle: a manifest with artifactType, the empty config, one layer and a
// `subject`, pushed by digest, and the `sha256-<hex>` fallback index kept by the writer. For the
// demo and the benches, which must not need the Go tools; the tests use real cosign.
import { readManifest, sha256Digest, pushBlob, pushManifestBytes, type Pushed } from "./images.ts";
import type { TestRegistry } from "./registry.ts";

const ociManifest = "application/vnd.oci.image.manifest.v1+json";
const ociIndex = "application/vnd.oci.image.index.v1+json";
const emptyConfig = "application/vnd.oci.empty.v1+json";
export const bundleType = "application/vnd.dev.sigstore.bundle.v0.3+json";
export const promotionPredicate = "https://k8s.io/promo-tools/promotion/v1";

export interface ReferrerOptions {
  readonly artifactType?: string;
  /** The bundle's predicate type annotation (`dev.sigstore.bundle.predicateType`). */
  readonly predicateType?: string;
  /** Makes the bundle (and so the digest) unique. */
  readonly seed: string;
}

/** The `sha256-<hex>` referrers fallback tag of a digest. */
export const fallbackTagOf = (digest: string): string => digest.replace(":", "-");

/** Pushes a bundle-shaped referrer of `subject` by digest and adds it to the fallback index (kept entries stay). */
export async function pushReferrer(reg: TestRegistry, repo: string, subject: Pushed, o: ReferrerOptions): Promise<Pushed> {
  const artifactType = o.artifactType ?? bundleType;
  const config = new TextEncoder().encode("{}");
  const layer = new TextEncoder().encode(JSON.stringify({ mediaType: artifactType, seed: o.seed, dsseEnvelope: { payloadType: "application/vnd.in-toto+json" } }));
  const [configDigest, layerDigest] = [await pushBlob(reg, repo, config), await pushBlob(reg, repo, layer)];
  const annotations = {
    "dev.sigstore.bundle.content": "dsse-envelope",
    "dev.sigstore.bundle.predicateType": o.predicateType ?? promotionPredicate,
    "org.opencontainers.image.created": "2026-12-01T00:00:00Z",
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: ociManifest,
    artifactType,
    config: { mediaType: emptyConfig, digest: configDigest, size: config.length, artifactType },
    layers: [{ mediaType: artifactType, digest: layerDigest, size: layer.length, annotations: { "org.opencontainers.image.title": `${fallbackTagOf(subject.digest)}.sigstore.json` } }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length },
    annotations,
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const digest = await pushManifestBytes(reg, repo, sha256Digest(bytes), ociManifest, bytes);
  // The writer keeps the fallback index on a registry without the API: read, append, write.
  const tag = fallbackTagOf(subject.digest);
  const current = await readManifest(reg, repo, tag);
  const entries: unknown[] = current === undefined ? [] : ((JSON.parse(new TextDecoder().decode(current.bytes)) as { manifests?: unknown[] }).manifests ?? []);
  entries.push({ mediaType: ociManifest, digest, size: bytes.length, artifactType, annotations });
  const index = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: ociIndex, manifests: entries }));
  await pushManifestBytes(reg, repo, tag, ociIndex, index);
  return { digest, mediaType: ociManifest, bytes, blobs: [configDigest, layerDigest] };
}
