// The referrers API (OCI 1.1), and on a 404 the referrers tag schema (`sha256-<hex>` holding an index).
import type { Descriptor } from "./descriptor.ts";
import { digestTag } from "./digest.ts";
import { errorFromResponse, requestError } from "./error.ts";
import { nextLink } from "./link.ts";
import { getManifest } from "./manifest.ts";
import { ociIndex } from "./media-types.ts";
import { descriptorsOf, isRecord, parseJson, type OciDescriptor } from "./oci-json.ts";
import { checkDigest, checkRepository } from "./paths.ts";
import { pull } from "./scopes.ts";
import type { Transport } from "./transport.ts";
import type { HttpRequest, OpCounter } from "./types.ts";

export interface Referrer extends Descriptor {
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Referrers {
  readonly referrers: Referrer[];
  /** "api": the registry's referrers endpoint; "tag": the fallback tag (or its absence). */
  readonly via: "api" | "tag";
}

const maxPages = 100;

function toReferrer(d: OciDescriptor): Referrer {
  return {
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    ...(d.artifactType !== undefined ? { artifactType: d.artifactType } : {}),
    ...(d.annotations !== undefined ? { annotations: d.annotations } : {}),
  };
}

function manifestsOf(req: HttpRequest, status: number, bytes: Uint8Array): Referrer[] {
  const body = parseJson(bytes);
  const list = isRecord(body) ? descriptorsOf(body["manifests"]) : undefined;
  if (list === undefined) throw requestError(req, "http", "referrers answer is not an image index", { status });
  return list.map(toReferrer);
}

export async function referrers(t: Transport, host: string, repository: string, digest: string, artifactType?: string, op?: OpCounter): Promise<Referrers> {
  checkRepository(host, repository);
  checkDigest(host, digest);
  const keep = (r: Referrer) => artifactType === undefined || r.artifactType === artifactType;
  let url: URL | undefined = t.endpoints(host).referrers(repository, digest);
  if (artifactType !== undefined) url.searchParams.set("artifactType", artifactType);
  const out: Referrer[] = [];
  for (let page = 0; url !== undefined && page < maxPages; page++) {
    const req: HttpRequest = {
      method: "GET",
      url,
      headers: new Headers({ accept: ociIndex }),
      subject: { repository, reference: digest },
      scopes: [pull(repository)],
      ...(op ? { op } : {}),
    };
    const res = await t.send(req);
    if (res.status === 404 && page === 0) {
      const index = await getManifest(t, host, repository, digestTag(digest), op);
      if (index === undefined) return { referrers: [], via: "tag" };
      return { referrers: manifestsOf(req, 200, index.bytes).filter(keep), via: "tag" };
    }
    if (res.status !== 200) throw errorFromResponse(req, res);
    out.push(...manifestsOf(req, res.status, res.body));
    url = nextLink(res.headers.get("link"), url);
  }
  return { referrers: out.filter(keep), via: "api" };
}
