// The registry client the rest of sigmirror uses: one public verb per file underneath, one
// transport stack (transport.ts) shared by all of them.
import { getBlob as getBlobVerb, headBlob as headBlobVerb } from "./blob.ts";
import type { RegistryConfig } from "./config.ts";
import { copy as copyVerb, type CopyResult, type RepoRef } from "./copy.ts";
import type { Descriptor, ManifestBytes } from "./descriptor.ts";
import { deleteManifest as deleteManifestVerb, getManifest as getManifestVerb, headManifest as headManifestVerb, putManifest as putManifestVerb } from "./manifest.ts";
import { mountBlob as mountBlobVerb, type MountResult } from "./mount.ts";
import { ping as pingVerb } from "./ping.ts";
import { referrers as referrersVerb, type Referrers } from "./referrers.ts";
import type { HostStats } from "./stats.ts";
import { listTags as listTagsVerb, type TagList } from "./tags.ts";
import { buildTransport, type Transport } from "./transport.ts";
import type { Action } from "./types.ts";
import { uploadBlob as uploadBlobVerb } from "./upload.ts";

export type { RegistryConfig } from "./config.ts";
export type { CopyResult, RepoRef } from "./copy.ts";
export type { Descriptor, ManifestBytes } from "./descriptor.ts";
export { isHostFailure, RegistryError, type RegistryErrorKind } from "./error.ts";
export type { MountResult } from "./mount.ts";
export type { Referrer, Referrers } from "./referrers.ts";
export type { HostStats } from "./stats.ts";
export type { TagList } from "./tags.ts";

export class RegistryClient {
  private readonly t: Transport;

  constructor(config: RegistryConfig) {
    this.t = buildTransport(config);
  }

  /** GET /v2/: resolves when the host answers as a registry; learns its auth challenge. */
  ping(host: string): Promise<void> {
    return pingVerb(this.t, host);
  }

  /**
   * Says which repositories of host will be used, so a bearer token can be asked for several at
   * once (batches of maxScopesPerToken). Optional: without it, one token per repository.
   */
  declareRepositories(host: string, repositories: readonly string[], access: Action): void {
    this.t.declared.declare(host.toLowerCase(), repositories, access);
  }

  /** undefined on 404 (no such manifest, or no such repository). */
  headManifest(host: string, repository: string, reference: string): Promise<Descriptor | undefined> {
    return headManifestVerb(this.t, host, repository, reference);
  }

  /** Checked: the bytes hash to the digest asked for, or to the one the registry states for a tag. */
  getManifest(host: string, repository: string, reference: string): Promise<ManifestBytes | undefined> {
    return getManifestVerb(this.t, host, repository, reference);
  }

  /** The exact bytes under reference; returns the digest the registry reports (throws if it differs). */
  putManifest(host: string, repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    return putManifestVerb(this.t, host, repository, reference, bytes, mediaType);
  }

  /** DELETE by digest: true when deleted, false when absent; throws where deletes are not allowed. */
  deleteManifest(host: string, repository: string, digest: string): Promise<boolean> {
    return deleteManifestVerb(this.t, host, repository, digest);
  }

  headBlob(host: string, repository: string, digest: string): Promise<Descriptor | undefined> {
    return headBlobVerb(this.t, host, repository, digest);
  }

  /** The verified bytes (digest, and size when given); undefined on 404. */
  getBlob(host: string, repository: string, digest: string, size?: number): Promise<Uint8Array | undefined> {
    return getBlobVerb(this.t, host, repository, digest, size);
  }

  /** Monolithic upload (POST, then PUT to the session); bytes must match digest. */
  uploadBlob(host: string, repository: string, digest: string, bytes: Uint8Array): Promise<void> {
    return uploadBlobVerb(this.t, host, repository, digest, bytes);
  }

  /** Cross-repository mount on one host; on 202, uploads the bytes of `source` when given. */
  mountBlob(host: string, repository: string, digest: string, from: string, source?: () => Promise<Uint8Array | undefined>): Promise<MountResult> {
    return mountBlobVerb(this.t, host, repository, digest, from, source);
  }

  /** All tags (Link pagination), with digests where the registry gives them; undefined for an unknown repository. */
  listTags(host: string, repository: string): Promise<TagList | undefined> {
    return listTagsVerb(this.t, host, repository);
  }

  /** Manifests whose subject is digest: the referrers API, or the fallback tag on a 404. */
  referrers(host: string, repository: string, digest: string, artifactType?: string): Promise<Referrers> {
    return referrersVerb(this.t, host, repository, digest, artifactType);
  }

  /** Copies the manifest `digest` (resolved on src) with its blobs and children to dst under tag. */
  copy(src: RepoRef, dst: RepoRef, tag: string, digest: string): Promise<CopyResult> {
    return copyVerb(this.t, src, dst, tag, digest);
  }

  /** The concurrency host is given (the configured one, less if the sum over hosts would pass the cap). */
  concurrencyOf(host: string): number {
    return this.t.limiter.concurrencyOf(host);
  }

  /** Per host: requests by method and status, retries, 429s, time paused, bytes, token requests. */
  stats(): HostStats[] {
    return this.t.stats.snapshot((host) => this.t.gate.pausedMs(host));
  }

  /** Stops the limiters; requests still queued fail. */
  close(): void {
    this.t.close();
  }
}
