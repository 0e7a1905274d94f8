// Reading the parts of OCI JSON the client needs: descriptors in manifests, indexes and listings.
import { isDigest } from "./digest.ts";

export interface OciDescriptor {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly urls?: readonly string[];
}

export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The string-valued members of an object (annotations); undefined for anything else. */
export function stringRecord(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

/** A descriptor, or undefined when the value is not one (no valid digest, no size). */
export function descriptorOf(v: unknown): OciDescriptor | undefined {
  if (!isRecord(v)) return undefined;
  const { digest, mediaType, size, artifactType, annotations, urls } = v;
  if (typeof digest !== "string" || !isDigest(digest)) return undefined;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 0) return undefined;
  const ann = stringRecord(annotations);
  return {
    digest,
    mediaType: typeof mediaType === "string" ? mediaType : "",
    size,
    ...(typeof artifactType === "string" ? { artifactType } : {}),
    ...(ann !== undefined ? { annotations: ann } : {}),
    ...(Array.isArray(urls) ? { urls: urls.filter((u): u is string => typeof u === "string") } : {}),
  };
}

/** Every descriptor of `list` (an array field), or undefined when one is malformed. */
export function descriptorsOf(list: unknown): OciDescriptor[] | undefined {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return undefined;
  const out: OciDescriptor[] = [];
  for (const item of list) {
    const d = descriptorOf(item);
    if (d === undefined) return undefined;
    out.push(d);
  }
  return out;
}
