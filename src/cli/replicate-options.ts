import type { OptionSpecs } from "./args.ts";

/** Flags of replicate and verify beyond manifests, primary, ledger and registry transport. */
export const scopeOptions: OptionSpecs = {
  "only-host": { type: "string", multiple: true, value: "HOST", help: "only pairs whose mirror is HOST" },
  "only-repository": { type: "string", multiple: true, value: "PREFIX", help: "only groups whose repository starts with PREFIX" },
  "only-digest": { type: "string", multiple: true, value: "DIGEST", help: "only the group of this image digest (sha256:...)" },
  "tag-suffixes": {
    type: "string",
    value: "LIST",
    help: "signature-family tags to replicate, comma-separated from sig,att,sbom; att and sbom are written per mirror by kpromo, so opt-in",
    default: "sig",
  },
  referrers: {
    type: "string",
    value: "LIST",
    help: "OCI 1.1 referrers to replicate, by artifact type: default (Sigstore bundles, in-toto attestations, cosign's OCI 1.1 signature and attestation types; not SBOMs), all, none, or a comma-separated list of media types; referrers of a referrer to depth 2 with the same filter; widening re-reads the primary at once",
    default: "default",
  },
  "reverify-after": { type: "string", value: "D", help: "re-check verified pairs and signed primaries after D (jittered up to 10% earlier); 0s checks everything now (and keeps the default window for what it verifies)", default: "24h" },
  settle: { type: "string", value: "D", help: "re-read a signature on the primary every run while it is younger than D (the signer appends)", default: "2h" },
  "unsigned-recheck-max": { type: "string", value: "D", help: "unsigned digests are re-checked on a backoff of a quarter of their age, at most D", default: "24h" },
  report: { type: "string", value: "FILE", help: "write the run's report as JSON to FILE (every failure and conflict)" },
  junit: { type: "string", value: "FILE", help: "write a JUnit XML file, a test case per mirror host (default $ARTIFACTS/junit_sigmirror.xml when $ARTIFACTS is set)" },
  "log-format": { type: "string", value: "FORMAT", help: "text, or json: every stderr line one JSON object (level, time, message, host, repository, tag, digest)", default: "text" },
};

export const replicateOnlyOptions: OptionSpecs = {
  "ledger-ref": {
    type: "string",
    value: "REGISTRY/REPOSITORY:TAG",
    help: "keep the ledger there as an OCI artifact between ephemeral pods: pulled at start into --ledger (or a temporary file) when that is absent or empty, pushed at the end and every --ledger-push-interval",
  },
  "ledger-push-interval": { type: "string", value: "D", help: "with --ledger-ref: push the ledger this often during a long run", default: "10m" },
  "no-ledger": { type: "boolean", help: "stateless run: check every pair, keep nothing (the baseline the ledger saves against)" },
  "dry-run": { type: "boolean", help: "do the reads, print what would be copied or replaced; writes no registry, no ledger, takes no lock" },
  "force-overwrite": { type: "boolean", help: "replace a mirror's tag even when it holds signatures the primary lacks" },
  "max-overwrites": { type: "string", value: "N", help: "stop replacing mirror tags after N in one run (a wrong --primary must not rewrite a fleet)", default: "10" },
  "max-duration": {
    type: "string",
    value: "D",
    help: "the run's deadline: nothing new starts after D; in-flight requests are aborted within the wind-down, and the run ends by D + --wind-down with the ledger committed and pushed, summary, report and JUnit written (pairs left are 'not reached', exit 0; a mirror that never answered is failed)",
  },
  "wind-down": {
    type: "string",
    value: "W",
    help: "with --max-duration: how long after D the run may take to end, at most 60s; in-flight requests get the first part (all but min(W/2, 15s)), finishing the rest",
    default: "30s",
  },
};

export const verifyOnlyOptions: OptionSpecs = {
  "check-unsigned": { type: "boolean", help: "also report signatures a mirror has for a digest the primary has none for" },
};
