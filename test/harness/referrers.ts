// OCI 1.1 referrers on a registry without the referrers API (distribution 2.8), written as cosign
// v3 writes a Sigstore bundle: a manifest with artifactType, the empty config, one layer (a bundle
// whose DSSE envelope holds an in-toto statement; its signature is fake, nothing here verifies it)
// and a `subject`, pushed by digest, and the `sha256-<hex>` fallback index kept by the writer
// (every entry already there kept). For the demo and the benches, which must not need the Go
// tools; the tests use real cosign. Same seed => same digest.
import { createHash } from "node:crypto";
import { mediaTypes, pushBlob, pushManifestBytes, readManifest, sha256Digest, type Pushed } from "./images.ts";
import type { TestRegistry } from "./registry.ts";

const emptyConfig = "application/vnd.oci.empty.v1+json";
export const bundleType = "application/vnd.dev.sigstore.bundle.v0.3+json";
export const promotionPredicate = "https://k8s.io/promo-tools/promotion/v1";
const encoder = new TextEncoder();
const emptyBytes = encoder.encode("{}");

export interface ReferrerOptions {
  readonly artifactType?: string;
  /** The statement's predicate type, also the `dev.sigstore.bundle.predicateType` annotation. */
  readonly predicateType?: string;
  /** Makes the bundle (and so the digest) unique. */
  readonly seed: string;
}

/** The `sha256-<hex>` referrers fallback tag of a digest. */
export const fallbackTagOf = (digest: string): string => digest.replace(":", "-");

// Distribution 2.8 answers 500 when the same blob is uploaded to one repository several times at
// once (seen: concurrent POST+PUT of `{}`, then HEAD 500), so the shared empty config goes up once
// per repository and the other pushes wait for it.
const emptyPushed = new Map<string, Promise<string>>();
function pushEmpty(reg: TestRegistry, repo: string): Promise<string> {
  const k = `${reg.host}/${repo}`;
  let p = emptyPushed.get(k);
  if (p === undefined) emptyPushed.set(k, (p = pushBlob(reg, repo, emptyBytes)));
  return p;
}

/** Pushes a bundle-shaped referrer of `subject` by digest and adds it to the fallback index (kept entries stay). */
export async function pushReferrer(reg: TestRegistry, repo: string, subject: Pick<Pushed, "digest" | "mediaType" | "bytes">, o: ReferrerOptions): Promise<Pushed> {
  const artifactType = o.artifactType ?? bundleType;
  const predicateType = o.predicateType ?? promotionPredicate;
  const statement = JSON.stringify({
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ name: `${reg.host}/${repo}`, digest: { sha256: subject.digest.replace(/^sha256:/, "") } }],
    predicateType,
    predicate: { seed: o.seed },
  });
  const layer = encoder.encode(
    JSON.stringify({
      mediaType: artifactType,
      verificationMaterial: { publicKey: { hint: "sigmirror-test" } },
      dsseEnvelope: {
        payload: Buffer.from(statement).toString("base64"),
        payloadType: "application/vnd.in-toto+json",
        signatures: [{ sig: Buffer.from(createHash("sha256").update(`${o.seed}\n${statement}`).digest("hex")).toString("base64"), keyid: "" }],
      },
    }),
  );
  const [configDigest, layerDigest] = await Promise.all([pushEmpty(reg, repo), pushBlob(reg, repo, layer)]);
  const annotations = { "dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": predicateType };
  const manifest = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    artifactType,
    config: { mediaType: emptyConfig, digest: configDigest, size: emptyBytes.length, artifactType },
    layers: [{ mediaType: artifactType, digest: layerDigest, size: layer.length, annotations: { "org.opencontainers.image.title": `${fallbackTagOf(subject.digest)}.sigstore.json` } }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length },
    annotations,
  };
  const bytes = encoder.encode(JSON.stringify(manifest));
  const digest = await pushManifestBytes(reg, repo, sha256Digest(bytes), mediaTypes.ociManifest, bytes);
  // The writer keeps the fallback index on a registry without the API: read, append, write.
  const tag = fallbackTagOf(subject.digest);
  const current = await readManifest(reg, repo, tag);
  const entries: unknown[] = (current === undefined ? [] : ((JSON.parse(new TextDecoder().decode(current.bytes)) as { manifests?: { digest?: unknown }[] }).manifests ?? [])).filter(
    (e) => e.digest !== digest,
  );
  entries.push({ mediaType: mediaTypes.ociManifest, digest, size: bytes.length, artifactType, annotations });
  const index = encoder.encode(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: entries }));
  await pushManifestBytes(reg, repo, tag, mediaTypes.ociIndex, index);
  return { digest, mediaType: mediaTypes.ociManifest, bytes, blobs: [configDigest, layerDigest] };
}
