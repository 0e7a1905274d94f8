// cosign's tag convention for a digest's signature-family artefacts: `sha256-<hex>.sig`, `.att`,
// `.sbom` in the image's own repository. The ledger stores families by name and knows none of this.

export const SUFFIXES = ["sig", "att", "sbom"] as const;
export type Suffix = (typeof SUFFIXES)[number];

/** cosign's tag for a digest's signature-family artefact: `sha256-<hex>.sig`. */
export function familyTag(digest: string, suffix: string): string {
  return `${digest.replace(":", "-")}.${suffix}`;
}
