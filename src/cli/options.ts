import type { OptionSpecs } from "./args.ts";

/** Where the groups come from: kpromo's manifests. */
export const manifestOptions: OptionSpecs = {
  "thin-manifest-dir": {
    type: "string",
    multiple: true,
    value: "DIR",
    help: "kpromo thin layout: DIR/manifests/<p>/promoter-manifest.yaml with DIR/images/<p>/images.yaml",
  },
  manifest: { type: "string", multiple: true, value: "FILE", help: "kpromo plain manifest (registries and images in one file)" },
  strict: { type: "boolean", help: "treat every manifest warning as a fatal error (for presubmits)" },
};

export const primaryOptions: OptionSpecs = {
  primary: {
    type: "string",
    multiple: true,
    value: "HOST",
    help: "host where the signer writes; a group's primary is the first given that the group contains",
  },
};

export const ledgerOptions: OptionSpecs = {
  ledger: { type: "string", value: "FILE", help: "SQLite ledger of verified (digest, mirror) pairs; a cache, safe to delete" },
};
