// What the engine needs of a registry client. RegistryClient satisfies it; keeping it narrow
// keeps the engine's reasoning in terms of tags and digests, not HTTP.
import type { Descriptor, ManifestBytes, RepoRef, TagList } from "../registry/index.ts";

export type { Descriptor, ManifestBytes, TagList };

export interface RegistryPort {
  headManifest(host: string, repository: string, reference: string): Promise<Descriptor | undefined>;
  getManifest(host: string, repository: string, reference: string): Promise<ManifestBytes | undefined>;
  listTags(host: string, repository: string): Promise<TagList | undefined>;
  copy(src: RepoRef, dst: RepoRef, tag: string, digest: string): Promise<{ digest: string }>;
  /** Which repositories of a host the run may touch, so one bearer token can cover several. */
  declareRepositories?(host: string, repositories: readonly string[], access: "pull" | "push"): void;
}
