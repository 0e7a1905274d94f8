// tags/list, following `Link` pagination; where the registry adds Google's `manifest` map (Artifact
// Registry, GCR), the digest of every tag comes with it, so no HEAD per tag is needed.
import { isGoogleHost } from "./credentials/index.ts";
import { isDigest } from "./digest.ts";
import { errorFromResponse, requestError } from "./error.ts";
import { nextLink } from "./link.ts";
import { isRecord, parseJson } from "./oci-json.ts";
import { checkRepository } from "./paths.ts";
import { pull } from "./scopes.ts";
import type { Transport } from "./transport.ts";
import type { HttpRequest, OpCounter } from "./types.ts";

export interface TagList {
  readonly tags: string[];
  /** tag -> manifest digest, from Google's `manifest` map. */
  readonly digests?: ReadonlyMap<string, string>;
  /** False when the list may be cut short (>= 10,000 tags on a Google host, or too many pages). */
  readonly complete: boolean;
}

/** Artifact Registry answers at most this many per page, and may leave tags out beyond it. */
export const googlePageSize = 10_000;
const maxPages = 1000;

export async function listTags(t: Transport, host: string, repository: string, op?: OpCounter): Promise<TagList | undefined> {
  checkRepository(host, repository);
  const google = isGoogleHost(host);
  let url: URL | undefined = t.endpoints(host).tags(repository);
  if (google) url.searchParams.set("n", String(googlePageSize));
  const tags = new Set<string>();
  const digests = new Map<string, string>();
  let sawMap = false;
  let pages = 0;
  for (; url !== undefined && pages < maxPages; pages++) {
    const req: HttpRequest = {
      method: "GET",
      url,
      headers: new Headers({ accept: "application/json" }),
      subject: { repository },
      scopes: [pull(repository)],
      ...(op ? { op } : {}),
    };
    const res = await t.send(req);
    if (res.status === 404 && pages === 0) return undefined;
    if (res.status !== 200) throw errorFromResponse(req, res, pages > 0 ? `page ${pages + 1} of the tag list` : undefined);
    const body = parseJson(res.body);
    if (!isRecord(body)) throw requestError(req, "http", "tag list is not a JSON object", { status: res.status });
    const list = body["tags"];
    if (Array.isArray(list)) for (const tag of list) if (typeof tag === "string") tags.add(tag);
    const manifests = body["manifest"];
    if (isRecord(manifests)) {
      sawMap = true;
      for (const [digest, info] of Object.entries(manifests)) {
        if (!isDigest(digest) || !isRecord(info) || !Array.isArray(info["tag"])) continue;
        for (const tag of info["tag"]) if (typeof tag === "string") digests.set(tag, digest);
      }
    }
    url = nextLink(res.headers.get("link"), url);
  }
  const truncated = url !== undefined || (google && tags.size >= googlePageSize);
  return { tags: [...tags], ...(sawMap ? { digests } : {}), complete: !truncated };
}
