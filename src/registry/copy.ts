// One manifest, resolved to `digest` on the source, copied to a tag on the target: read by digest
// (the tag may move meanwhile), blobs brought over (HEAD first; same host: mounted), children of
// an index before the index, then the unchanged bytes PUT under the tag and the digest the target
// reports compared. Bytes that do not match their digest are never pushed.
import { getBlob, headBlob } from "./blob.ts";
import type { ManifestBytes } from "./descriptor.ts";
import { RegistryError } from "./error.ts";
import { getManifest, headManifest, putManifest } from "./manifest.ts";
import { isForeignLayer, isImageManifestType, isIndexType } from "./media-types.ts";
import { mountBlob } from "./mount.ts";
import { descriptorOf, descriptorsOf, isRecord, parseJson, type OciDescriptor } from "./oci-json.ts";
import type { Transport } from "./transport.ts";
import type { OpCounter } from "./types.ts";
import { uploadBlob } from "./upload.ts";

export interface RepoRef {
  readonly host: string;
  readonly repository: string;
}

export interface CopyResult {
  readonly digest: string;
  /** Blobs uploaded or mounted (not those the target had). */
  readonly blobsCopied: number;
  /** HTTP attempts on behalf of this copy, on every host (token fetches and retries included). */
  readonly requests: number;
}

interface Parts {
  readonly blobs: readonly OciDescriptor[];
  readonly children: readonly OciDescriptor[];
}

const maxDepth = 4;

function fail(where: RepoRef, reference: string, detail: string, kind: RegistryError["kind"] = "http"): RegistryError {
  return new RegistryError({ host: where.host, method: "COPY", repository: where.repository, reference, kind, detail });
}

function partsOf(src: RepoRef, m: ManifestBytes): Parts {
  const body = parseJson(m.bytes);
  if (!isRecord(body)) throw fail(src, m.digest, "manifest is not a JSON object");
  const mediaType = m.mediaType || (typeof body["mediaType"] === "string" ? body["mediaType"] : "");
  if (isIndexType(mediaType)) {
    const children = descriptorsOf(body["manifests"]);
    if (children === undefined) throw fail(src, m.digest, "index with a malformed manifests list");
    return { blobs: [], children };
  }
  if (isImageManifestType(mediaType)) {
    const config = descriptorOf(body["config"]);
    const layers = descriptorsOf(body["layers"]);
    if (config === undefined || layers === undefined) throw fail(src, m.digest, "manifest with a malformed config or layers");
    const seen = new Set<string>();
    const blobs = [config, ...layers].filter((d) => {
      if (seen.has(d.digest) || (isForeignLayer(d.mediaType) && (d.urls?.length ?? 0) > 0)) return false;
      seen.add(d.digest);
      return true;
    });
    return { blobs, children: [] };
  }
  throw fail(src, m.digest, `unsupported manifest media type ${JSON.stringify(mediaType)}`);
}

/** A source manifest by digest, read once per run however many targets it is copied to. */
function sourceManifest(t: Transport, src: RepoRef, digest: string, op: OpCounter): Promise<ManifestBytes | undefined> {
  return t.sourceManifests.get(`${src.host.toLowerCase()}\n${src.repository}\n${digest}`, () => getManifest(t, src.host, src.repository, digest, op));
}

export async function copy(t: Transport, src: RepoRef, dst: RepoRef, tag: string, digest: string): Promise<CopyResult> {
  const op: OpCounter = { requests: 0 };
  const m = await sourceManifest(t, src, digest, op);
  if (m === undefined) throw fail(src, digest, "manifest not found on the source");
  const blobsCopied = await copyContent(t, src, dst, m, op, 0);
  const reported = await putManifest(t, dst.host, dst.repository, tag, m.bytes, m.mediaType, op);
  if (reported !== digest) throw fail(dst, tag, `target reports ${reported}, not ${digest}`, "digest");
  return { digest, blobsCopied, requests: op.requests };
}

async function copyContent(t: Transport, src: RepoRef, dst: RepoRef, m: ManifestBytes, op: OpCounter, depth: number): Promise<number> {
  const parts = partsOf(src, m);
  let copied = 0;
  for (const child of parts.children) {
    if (depth >= maxDepth) throw fail(src, m.digest, `indexes nested deeper than ${maxDepth}`);
    if ((await headManifest(t, dst.host, dst.repository, child.digest, op, "push")) !== undefined) continue;
    const cm = await sourceManifest(t, src, child.digest, op);
    if (cm === undefined) throw fail(src, child.digest, `child of ${m.digest} not found on the source`);
    copied += await copyContent(t, src, dst, cm, op, depth + 1);
    await putManifest(t, dst.host, dst.repository, child.digest, cm.bytes, cm.mediaType, op);
  }
  // Settled, not raced: a failed copy leaves no request of its own behind it.
  const results = await Promise.allSettled(parts.blobs.map((b) => copyBlob(t, src, dst, b, op)));
  for (const r of results) if (r.status === "rejected") throw r.reason;
  return copied + results.reduce((a, r) => a + (r.status === "fulfilled" ? r.value : 0), 0);
}

async function copyBlob(t: Transport, src: RepoRef, dst: RepoRef, blob: OciDescriptor, op: OpCounter): Promise<number> {
  const fetchSource = () =>
    t.sourceBlobs.get(`${src.host.toLowerCase()}\n${src.repository}\n${blob.digest}`, () =>
      getBlob(t, src.host, src.repository, blob.digest, blob.size, op),
    );
  if (src.host.toLowerCase() === dst.host.toLowerCase()) {
    if (src.repository === dst.repository) return 0;
    // One request either way when the blob is there already; one fewer when it is not.
    const r = await mountBlob(t, dst.host, dst.repository, blob.digest, src.repository, fetchSource, op);
    return r === "not-mounted" ? 0 : 1;
  }
  // Asked with the push scope: the upload that may follow needs that token anyway.
  if ((await headBlob(t, dst.host, dst.repository, blob.digest, op, "push")) !== undefined) return 0;
  const bytes = await fetchSource();
  if (bytes === undefined) throw fail(src, blob.digest, "blob not found on the source");
  await uploadBlob(t, dst.host, dst.repository, blob.digest, bytes, op);
  return 1;
}
