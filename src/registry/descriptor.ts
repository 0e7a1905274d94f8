// What the verbs hand back: descriptors and manifest bytes.

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
