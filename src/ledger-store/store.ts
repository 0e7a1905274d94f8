// Pull and push the ledger through a registry, with the same client (auth, limiter) as the run.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";
import { LedgerError, validateExisting } from "../ledger/open.ts";
import type { Descriptor, ManifestBytes } from "../registry/index.ts";
import { emptyConfig, emptyConfigDigest, ledgerLayerOf, ledgerLayerType, ledgerManifest, ociManifestType } from "./artifact.ts";
import type { LedgerRef } from "./ref.ts";

export interface StorePort {
  getManifest(host: string, repository: string, reference: string): Promise<ManifestBytes | undefined>;
  getBlob(host: string, repository: string, digest: string, size?: number): Promise<Uint8Array | undefined>;
  headBlob(host: string, repository: string, digest: string): Promise<Descriptor | undefined>;
  uploadBlob(host: string, repository: string, digest: string, bytes: Uint8Array): Promise<void>;
  putManifest(host: string, repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string>;
  deleteManifest(host: string, repository: string, digest: string): Promise<boolean>;
}

export type Pulled =
  | { readonly kind: "missing" }
  | { readonly kind: "pulled"; readonly digest: string; readonly bytes: number }
  /** Unusable (not ours, corrupt): a cold start, and the next push replaces it. */
  | { readonly kind: "damaged"; readonly digest: string | undefined; readonly reason: string }
  /** Written by a newer sigmirror (a rolled-back binary): never overwrite it. */
  | { readonly kind: "newer"; readonly digest: string; readonly reason: string };

const maxLedgerBytes = 1 << 30;

/** What a push stores: brotli, quality 5 (node:zlib, so Bun and Deno alike). */
export function compressLedger(bytes: Uint8Array): Uint8Array {
  return brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
}

export function decompressLedger(bytes: Uint8Array): Uint8Array {
  return brotliDecompressSync(bytes, { maxOutputLength: maxLedgerBytes });
}

/** Brings the stored ledger into `dest` (absent or empty); a damaged one leaves `dest` as it was. */
export async function pullLedger(port: StorePort, ref: LedgerRef, dest: string): Promise<Pulled> {
  let manifest: ManifestBytes | undefined;
  try {
    manifest = await port.getManifest(ref.host, ref.repository, ref.tag);
  } catch (err) {
    // A digest mismatch or a body that is not a manifest is damage; an unreachable registry is not.
    if (err instanceof Error && "kind" in err && err.kind === "digest") return { kind: "damaged", digest: undefined, reason: err.message };
    throw err;
  }
  if (manifest === undefined) return { kind: "missing" };
  const layer = ledgerLayerOf(manifest.bytes);
  if (typeof layer === "string") return { kind: "damaged", digest: manifest.digest, reason: layer };
  let gz: Uint8Array | undefined;
  try {
    gz = await port.getBlob(ref.host, ref.repository, layer.digest, layer.size);
  } catch (err) {
    if (err instanceof Error && "kind" in err && err.kind === "digest") return { kind: "damaged", digest: manifest.digest, reason: err.message };
    throw err;
  }
  if (gz === undefined) return { kind: "damaged", digest: manifest.digest, reason: `layer ${layer.digest} is missing` };
  let raw: Uint8Array;
  try {
    raw = decompressLedger(gz);
  } catch (err) {
    return { kind: "damaged", digest: manifest.digest, reason: `not brotli: ${err instanceof Error ? err.message : String(err)}` };
  }
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-pull-"));
  try {
    const tmp = join(dir, "ledger.db");
    writeFileSync(tmp, raw);
    try {
      validateExisting(tmp, true);
    } catch (err) {
      if (!(err instanceof LedgerError)) throw err;
      const reason = err.message.slice(tmp.length + 2);
      return err.problem === "newer" ? { kind: "newer", digest: manifest.digest, reason } : { kind: "damaged", digest: manifest.digest, reason };
    }
    try {
      renameSync(tmp, dest);
    } catch {
      // Another filesystem: copy, then rename within dest's directory.
      writeFileSync(`${dest}.pulled`, readFileSync(tmp));
      renameSync(`${dest}.pulled`, dest);
    }
    return { kind: "pulled", digest: manifest.digest, bytes: raw.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes);
  return `sha256:${Buffer.from(d).toString("hex")}`;
}

export interface Pushed {
  readonly digest: string;
  /** Compressed size of the snapshot. */
  readonly bytes: number;
}

/** Pushes a snapshot file (see Ledger.snapshotTo) under the ref's tag. */
export async function pushLedger(port: StorePort, ref: LedgerRef, snapshotPath: string, annotations: Readonly<Record<string, string>>): Promise<Pushed> {
  const gz = compressLedger(readFileSync(snapshotPath));
  const layerDigest = await sha256(gz);
  if ((await port.headBlob(ref.host, ref.repository, emptyConfigDigest)) === undefined) {
    await port.uploadBlob(ref.host, ref.repository, emptyConfigDigest, emptyConfig);
  }
  await port.uploadBlob(ref.host, ref.repository, layerDigest, gz);
  const manifest = ledgerManifest({ digest: layerDigest, size: gz.length }, annotations);
  const digest = await port.putManifest(ref.host, ref.repository, ref.tag, manifest, ociManifestType);
  return { digest, bytes: gz.length };
}

/**
 * Deletes earlier pushes so 48 a day leave no pile of untagged artefacts; never the one just
 * pushed (deleting by digest removes every tag on it). A registry that refuses deletes is fine.
 */
export async function deleteOlder(port: StorePort, ref: LedgerRef, digests: Iterable<string>, keep: string): Promise<string[]> {
  const problems: string[] = [];
  for (const d of new Set(digests)) {
    if (d === keep) continue;
    try {
      await port.deleteManifest(ref.host, ref.repository, d);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  return problems;
}

export { ledgerLayerType };
