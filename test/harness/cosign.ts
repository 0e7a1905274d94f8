// cosign v3 driven offline against loopback plain-HTTP registries: a key pair, no Fulcio, no
// Rekor, no TUF. Flags checked against `cosign <cmd> --help` of v3.1.2; --tlog-upload and
// --new-bundle-format are deprecated there (hidden from --help, printed as a warning) but work.
import { join } from "node:path";
import { runGoTool, runGoToolOk } from "./go-tools.ts";

export interface CosignKeyPair {
  /** cosign.key: encrypted with the empty password (COSIGN_PASSWORD=""). */
  readonly key: string;
  readonly pub: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** stdout and stderr together: the verified payloads, or why verification failed. */
  readonly output: string;
}

// The key's password is empty: cosign reads it from COSIGN_PASSWORD instead of a terminal
// (without it, signing fails with "inappropriate ioctl for device").
const passwordEnv = { COSIGN_PASSWORD: "" };

/**
 * go-containerregistry speaks plain HTTP by itself only to localhost, 127.0.0.1 and RFC 1918
 * hosts; the harness's registries are on other 127.x addresses. Offline signing:
 * --use-signing-config=false (else --tlog-upload=false is refused), no transparency log upload.
 */
const signFlags = ["--allow-http-registry", "--use-signing-config=false", "--tlog-upload=false", "-y"];
const verifyFlags = ["--allow-http-registry", "--insecure-ignore-tlog"];

/** Writes cosign.key and cosign.pub into dir. */
export async function cosignKeyPair(dir: string): Promise<CosignKeyPair> {
  await runGoToolOk("cosign", ["generate-key-pair"], { cwd: dir, env: passwordEnv });
  return { key: join(dir, "cosign.key"), pub: join(dir, "cosign.pub") };
}

export interface SignOptions {
  readonly key: string;
  /**
   * true: a Sigstore bundle pushed as an OCI 1.1 referrer (cosign v3's default); false: the legacy
   * `sha256-<hex>.sig` tag (--new-bundle-format=false), as kpromo still signs images.
   */
  readonly bundle: boolean;
  /** Sign every platform manifest of an index too (-r), as kpromo does. */
  readonly recursive?: boolean;
  readonly annotations?: Record<string, string>;
}

function formatFlags(bundle: boolean): string[] {
  return bundle ? [] : ["--new-bundle-format=false"];
}

/** Signs ref (repo@digest: signing a tag would sign whatever it points to by then). Throws on failure. */
export async function cosignSign(ref: string, opts: SignOptions): Promise<void> {
  const args = ["sign", ...signFlags, "--key", opts.key, ...formatFlags(opts.bundle)];
  if (opts.recursive) args.push("--recursive");
  for (const [k, v] of Object.entries(opts.annotations ?? {})) args.push("-a", `${k}=${v}`);
  await runGoToolOk("cosign", [...args, ref], { env: passwordEnv });
}

export interface AttestOptions {
  readonly key: string;
  /** A JSON file: the in-toto predicate. */
  readonly predicateFile: string;
  /** Predicate type: a URI, or one of cosign's short names (slsaprovenance, spdxjson, ...). */
  readonly type: string;
  /** true: bundle referrer (artifactType application/vnd.dev.sigstore.bundle.v0.3+json); false: `.att` tag. */
  readonly bundle: boolean;
}

export async function cosignAttest(ref: string, opts: AttestOptions): Promise<void> {
  const args = ["attest", ...signFlags, "--key", opts.key, "--predicate", opts.predicateFile, "--type", opts.type];
  await runGoToolOk("cosign", [...args, ...formatFlags(opts.bundle), ref], { env: passwordEnv });
}

async function verify(args: readonly string[]): Promise<VerifyResult> {
  const r = await runGoTool("cosign", args);
  return { ok: r.code === 0, output: `${r.out}${r.err}` };
}

/**
 * cosign verify: bundles first (referrers API, else the `sha256-<hex>` fallback tag), then the
 * legacy `.sig` tag. Never throws for a failed verification: tests assert both outcomes.
 */
export function cosignVerify(ref: string, opts: { key: string }): Promise<VerifyResult> {
  return verify(["verify", ...verifyFlags, "--key", opts.key, ref]);
}

export function cosignVerifyAttestation(ref: string, opts: { key: string; type: string }): Promise<VerifyResult> {
  return verify(["verify-attestation", ...verifyFlags, "--key", opts.key, "--type", opts.type, ref]);
}
