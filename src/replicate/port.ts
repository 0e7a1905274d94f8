// What the engine needs of a registry client. RegistryClient satisfies it; keeping it narrow
// keeps the engine's reasoning in terms of tags and digests, not HTTP.
import type { Descriptor, ManifestBytes, Referrers, RepoRef, TagList } from "../registry/index.ts";

export type { Descriptor, ManifestBytes, Referrer, Referrers, TagList } from "../registry/index.ts";

export interface RegistryPort {
  headManifest(host: string, repository: string, reference: string): Promise<Descriptor | undefined>;
  getManifest(host: string, repository: string, reference: string): Promise<ManifestBytes | undefined>;
  listTags(host: string, repository: string): Promise<TagList | undefined>;
  /** `reference` is the tag to write, or the digest itself for a manifest kept by digest only (a referrer). */
  copy(src: RepoRef, dst: RepoRef, reference: string, digest: string): Promise<{ digest: string }>;
  /** The referrers API, or on a 404 the `sha256-<hex>` fallback tag's index (`via` says which). */
  referrers(host: string, repository: string, digest: string): Promise<Referrers>;
  /** The exact bytes under reference; returns the digest the registry reports. */
  putManifest(host: string, repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string>;
  /** Which repositories of a host the run may touch, so one bearer token can cover several. */
  declareRepositories?(host: string, repositories: readonly string[], access: "pull" | "push"): void;
}
