// The manifest media types this client reads and writes.

export const ociManifest = "application/vnd.oci.image.manifest.v1+json";
export const ociIndex = "application/vnd.oci.image.index.v1+json";
export const dockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
export const dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

/** Sent with every manifest request: without the OCI types, distribution 2.8 answers 404 for OCI manifests. */
export const manifestAccept = [ociManifest, ociIndex, dockerManifest, dockerManifestList].join(", ");

export function isIndexType(mediaType: string): boolean {
  return mediaType === ociIndex || mediaType === dockerManifestList;
}

export function isImageManifestType(mediaType: string): boolean {
  return mediaType === ociManifest || mediaType === dockerManifest;
}

/** Layers that are never pushed to a registry (their `urls` point elsewhere). */
export function isForeignLayer(mediaType: string): boolean {
  return (
    mediaType === "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" ||
    mediaType.startsWith("application/vnd.oci.image.layer.nondistributable.")
  );
}

/** `Content-Type` without parameters. */
export function bareType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]?.trim() ?? "";
}
