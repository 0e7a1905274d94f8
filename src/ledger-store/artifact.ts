// The stored ledger as an OCI artifact: an image manifest of its own artifact type, the empty
// config, and one layer: a brotli-compressed consistent SQLite snapshot (brotli at quality 5:
// 8.9 MB for the full k8s shape where gzip gives 11.6 MB, in about 1.5 s).

export const ledgerArtifactType = "application/vnd.dev.sigmirror.ledger.v1";
export const ledgerLayerType = "application/vnd.dev.sigmirror.ledger.v1.sqlite+br";
export const ociManifestType = "application/vnd.oci.image.manifest.v1+json";
export const emptyConfigType = "application/vnd.oci.empty.v1+json";
export const emptyConfig = new TextEncoder().encode("{}");
export const emptyConfigDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

export interface LayerRef {
  readonly digest: string;
  readonly size: number;
}

export function ledgerManifest(layer: LayerRef, annotations: Readonly<Record<string, string>>): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: ociManifestType,
    artifactType: ledgerArtifactType,
    config: { mediaType: emptyConfigType, digest: emptyConfigDigest, size: emptyConfig.length },
    layers: [{ mediaType: ledgerLayerType, digest: layer.digest, size: layer.size }],
    annotations,
  };
  return new TextEncoder().encode(JSON.stringify(manifest));
}

/** The ledger layer of a stored manifest, or why it is not one of ours. */
export function ledgerLayerOf(bytes: Uint8Array): LayerRef | string {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return "manifest is not JSON";
  }
  if (typeof body !== "object" || body === null) return "manifest is not a JSON object";
  const m = body as Record<string, unknown>;
  if (m["artifactType"] !== ledgerArtifactType) return `artifact type is ${JSON.stringify(m["artifactType"])}, not ${ledgerArtifactType}`;
  const layers = m["layers"];
  if (!Array.isArray(layers) || layers.length !== 1) return "not exactly one layer";
  const l = layers[0] as Record<string, unknown>;
  if (l["mediaType"] !== ledgerLayerType || typeof l["digest"] !== "string" || typeof l["size"] !== "number") return "layer is not a ledger snapshot";
  return { digest: l["digest"], size: l["size"] };
}
