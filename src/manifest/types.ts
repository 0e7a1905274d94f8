/** A destination (non-`src`) registry of a manifest, e.g. `us-east1-docker.pkg.dev/k8s-artifacts-prod/images/charts`. */
export interface Destination {
  /** As written. */
  readonly name: string;
  /** Up to the first `/`, port included, as written. */
  readonly host: string;
  /** After the first `/`: the repository prefix the images go under. */
  readonly path: string;
}

/** One image of a manifest, its duplicate entries merged. */
export interface ImageEntry {
  readonly name: string;
  /** Valid digests with at least one valid tag; digests without any are left out. */
  readonly digests: ReadonlyMap<string, readonly string[]>;
}

/** One promotion manifest, validated: a thin project (manifest + images.yaml) or a plain manifest. */
export interface ParsedSource {
  readonly kind: "thin" | "plain";
  /** The thin project's directory name, or the plain manifest's path. */
  readonly project: string;
  /** The file holding `registries`. */
  readonly manifestFile: string;
  /** The file holding the images (the manifest itself for a plain one). */
  readonly imagesFile: string;
  /** The `src` registry: not used for replication; any image reference. */
  readonly src: string;
  /** De-duplicated, in file order. */
  readonly destinations: readonly Destination[];
  /** Merged by name, in order of first appearance. */
  readonly images: readonly ImageEntry[];
}
