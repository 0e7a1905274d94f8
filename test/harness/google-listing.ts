// Emulation of Google Artifact Registry's tag listing on top of a plain distribution registry:
// `GET /v2/<name>/tags/list` paginated with `n`/`last` and a `Link: rel="next"` header, plus the
// `manifest` digest map that Google hosts add (distribution 2.8 ignores n/last and has no map).
// The digests come from HEADs on the upstream: the proxy's own requests, never recorded.

export interface GoogleListingOptions {
  /** Page size when the request has no valid `n` (Google's own default is larger; 100 here). */
  readonly pageSize?: number;
}

export interface GoogleManifestEntry {
  readonly tag: string[];
  readonly mediaType: string;
  /** The manifest's own Content-Length (a HEAD cannot see the image's layer sizes). */
  readonly imageSizeBytes: string;
  /** When this proxy first saw the digest (distribution does not expose creation times). */
  readonly timeCreatedMs: string;
  readonly timeUploadedMs: string;
}

const manifestAccept = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

const defaultPageSize = 100;
/** Google accepts n=10000 (gcrane asks for it); larger values are clamped. */
const maxPageSize = 10_000;
const headConcurrency = 4;
const maxRememberedDigests = 100_000;
const upstreamTimeoutMs = 60_000;

/** The repository name of a tags/list path (`/v2/a/b/tags/list` -> `a/b`), or undefined. */
export function tagsListName(pathname: string): string | undefined {
  const m = /^\/v2\/(.+)\/tags\/list$/.exec(pathname);
  return m?.[1];
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

function pageSizeOf(query: URLSearchParams, fallback: number): number {
  const raw = query.get("n");
  if (raw === null || !/^\d{1,9}$/.test(raw)) return fallback;
  return Math.min(Number(raw), maxPageSize);
}

export class GoogleListing {
  private readonly pageSize: number;
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly upstreamOrigin: string,
    options: GoogleListingOptions,
  ) {
    const size = options.pageSize ?? defaultPageSize;
    if (!Number.isInteger(size) || size < 1) throw new Error(`googleListing.pageSize must be a positive integer, got ${size}`);
    this.pageSize = Math.min(size, maxPageSize);
  }

  /**
   * Answers one listing request. `headers` are the client's (hop-by-hop removed), so the
   * upstream sees the client's Authorization. A non-200 upstream answer is returned as is.
   */
  async respond(name: string, query: URLSearchParams, headers: Headers, signal: AbortSignal): Promise<Response> {
    const listHeaders = new Headers(headers);
    const upstreamList = await fetch(`${this.upstreamOrigin}/v2/${name}/tags/list`, {
      headers: listHeaders,
      redirect: "manual",
      proxy: false,
      signal: AbortSignal.any([signal, AbortSignal.timeout(upstreamTimeoutMs)]),
    });
    if (upstreamList.status !== 200) return upstreamList;
    const parsed: unknown = await upstreamList.json();
    const tagsField = typeof parsed === "object" && parsed !== null && "tags" in parsed ? parsed.tags : null;
    const all = isStringArray(tagsField) ? [...tagsField].sort() : [];
    const n = pageSizeOf(query, this.pageSize);
    const last = query.get("last");
    const after = last === null ? all : all.filter((t) => t > last);
    const page = after.slice(0, n);
    const more = n > 0 && after.length > page.length;

    const manifest = await this.digestMap(name, page, headers, signal);
    const body = JSON.stringify({ child: [], manifest, name, tags: page });
    const out = new Headers({ "Content-Type": "application/json" });
    const lastOfPage = page.at(-1);
    if (more && lastOfPage !== undefined) {
      const next = `/v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(lastOfPage)}`;
      out.set("Link", `<${next}>; rel="next"`);
    }
    return new Response(body, { status: 200, headers: out });
  }

  /** Entries for the digests of this page's tags; each entry's `tag` lists this page's tags only. */
  private async digestMap(
    name: string,
    tags: readonly string[],
    headers: Headers,
    signal: AbortSignal,
  ): Promise<Record<string, GoogleManifestEntry>> {
    const found: Array<{ tag: string; digest: string; mediaType: string; size: string } | undefined> = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < tags.length) {
        const i = next++;
        const tag = tags[i];
        if (tag === undefined) continue;
        found[i] = await this.head(name, tag, headers, signal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(headConcurrency, tags.length) }, worker));

    const map: Record<string, GoogleManifestEntry> = {};
    for (const f of found) {
      if (f === undefined) continue;
      const existing = map[f.digest];
      if (existing !== undefined) {
        existing.tag.push(f.tag);
        continue;
      }
      const seen = String(this.seen(f.digest));
      map[f.digest] = { tag: [f.tag], mediaType: f.mediaType, imageSizeBytes: f.size, timeCreatedMs: seen, timeUploadedMs: seen };
    }
    return map;
  }

  private async head(
    name: string,
    tag: string,
    headers: Headers,
    signal: AbortSignal,
  ): Promise<{ tag: string; digest: string; mediaType: string; size: string } | undefined> {
    const h = new Headers(headers);
    h.set("Accept", manifestAccept);
    const res = await fetch(`${this.upstreamOrigin}/v2/${name}/manifests/${encodeURIComponent(tag)}`, {
      method: "HEAD",
      headers: h,
      redirect: "manual",
      proxy: false,
      signal: AbortSignal.any([signal, AbortSignal.timeout(upstreamTimeoutMs)]),
    });
    await res.body?.cancel();
    const digest = res.headers.get("Docker-Content-Digest");
    // A tag deleted between the listing and the HEAD simply drops out of the map.
    if (res.status !== 200 || digest === null) return undefined;
    return {
      tag,
      digest,
      mediaType: res.headers.get("Content-Type") ?? "",
      size: res.headers.get("Content-Length") ?? "0",
    };
  }

  private seen(digest: string): number {
    const known = this.firstSeen.get(digest);
    if (known !== undefined) return known;
    if (this.firstSeen.size >= maxRememberedDigests) this.firstSeen.clear();
    const now = Date.now();
    this.firstSeen.set(digest, now);
    return now;
  }
}
