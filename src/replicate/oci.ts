// The little the engine must know of OCI manifest bodies: an index's children, a manifest's layers.

import { isIndexType } from "../registry/media-types.ts";
import { descriptorOf, isRecord, parseJson, stringRecord, type OciDescriptor } from "../registry/oci-json.ts";
import type { Referrer } from "./port.ts";

function parse(bytes: Uint8Array): Record<string, unknown> | undefined {
  const v = parseJson(bytes);
  return isRecord(v) ? v : undefined;
}

/** Lenient on purpose (any entry with a digest): children and layers are compared, not copied, here. */
function digestsOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const item of list) {
    const d = isRecord(item) ? item["digest"] : undefined;
    if (typeof d === "string") out.push(d);
  }
  return out;
}

/** Children digests of an index, in order; [] for anything else. */
export function indexChildren(mediaType: string, bytes: Uint8Array): string[] {
  const body = parse(bytes);
  if (body === undefined) return [];
  const type = typeof body["mediaType"] === "string" ? body["mediaType"] : mediaType;
  if (!isIndexType(type) && !Array.isArray(body["manifests"])) return [];
  return [...new Set(digestsOf(body["manifests"]))];
}

/** Layer digests of an image manifest (a cosign signature holds one per signature); undefined if not one. */
export function manifestLayers(bytes: Uint8Array): string[] | undefined {
  const body = parse(bytes);
  if (body === undefined || !Array.isArray(body["layers"])) return undefined;
  return digestsOf(body["layers"]);
}

/** The primary's manifest may replace the mirror's only when it holds every layer the mirror's holds. */
export function holdsEveryLayer(primary: Uint8Array, mirror: Uint8Array): boolean {
  const p = manifestLayers(primary);
  const m = manifestLayers(mirror);
  if (p === undefined || m === undefined) return false;
  const have = new Set(p);
  return m.every((d) => have.has(d));
}

/** The entries of an OCI index (a referrers fallback index), as descriptors; [] for anything else. */
export function indexEntries(bytes: Uint8Array): Referrer[] {
  const list = parse(bytes)?.["manifests"];
  if (!Array.isArray(list)) return [];
  // Lenient on purpose: one malformed entry (another writer's) does not hide the others.
  return list.map(descriptorOf).filter((d): d is OciDescriptor => d !== undefined && d.mediaType !== "");
}

/** The index entry a referrer gets from its own manifest: artifactType (else the config's media type) and its annotations. */
export function referrerDescriptor(digest: string, mediaType: string, bytes: Uint8Array): Referrer {
  const body = parse(bytes);
  const config = body?.["config"];
  const type = body?.["artifactType"] ?? (isRecord(config) ? config["mediaType"] : undefined);
  const annotations = body?.["annotations"];
  const notes = stringRecord(annotations);
  return { digest, mediaType, size: bytes.length, ...(typeof type === "string" ? { artifactType: type } : {}), ...(notes === undefined ? {} : { annotations: notes }) };
}
