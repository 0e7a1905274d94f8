// What the engine needs of a registry client. RegistryClient satisfies it; keeping it narrow
// keeps the engine's reasoning in terms of tags and digests, not HTTP.

export interface Descriptor {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

export interface ManifestBytes {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

export interface TagList {
  readonly tags: readonly string[];
  /** tag -> manifest digest, where the registry says (Google's `manifest` map). */
  readonly digests?: ReadonlyMap<string, string>;
  /** False when the listing may be cut short: then absence proves nothing. */
  readonly complete: boolean;
}

export interface Repo {
  readonly host: string;
  readonly repository: string;
}

export interface RegistryPort {
  headManifest(host: string, repository: string, reference: string): Promise<Descriptor | undefined>;
  getManifest(host: string, repository: string, reference: string): Promise<ManifestBytes | undefined>;
  listTags(host: string, repository: string): Promise<TagList | undefined>;
  copy(src: Repo, dst: Repo, tag: string, digest: string): Promise<{ digest: string }>;
}
