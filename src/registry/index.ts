// The registry client's public surface.
export * from "./client.ts";
export { manifestAccept, ociIndex, ociManifest, dockerManifest, dockerManifestList } from "./media-types.ts";
export { digestOf, digestTag, isDigest } from "./digest.ts";
