// Monolithic blob upload: POST opens a session, PUT to its Location (relative or absolute, query
// kept) with `digest=` sends the bytes. A PUT that fails is not repeated into a session that may
// be half-used: the upload starts over with a new POST. Bytes that do not match their digest are
// never sent.
import { retryDelayMs } from "./backoff.ts";
import { digestOf } from "./digest.ts";
import { errorFromResponse, messageOf, RegistryError, requestError } from "./error.ts";
import { checkDigest, checkRepository } from "./paths.ts";
import { isRetryableStatus } from "./retry.ts";
import { push } from "./scopes.ts";
import type { Transport } from "./transport.ts";
import type { HttpRequest, HttpResponse, OpCounter, Scope } from "./types.ts";
import { hostOf } from "./types.ts";

/** The session URL of a 202, with the digest added to whatever query it carries. */
export function sessionUrl(res: HttpResponse, req: HttpRequest, digest: string): URL {
  const location = res.headers.get("location");
  if (location === null || location === "") throw requestError(req, "http", "upload session without Location", { status: res.status });
  const url = new URL(location, res.url);
  url.searchParams.append("digest", digest);
  return url;
}

export function openRequest(t: Transport, host: string, repository: string, scopes: readonly Scope[], query: Record<string, string>, op?: OpCounter): HttpRequest {
  const url = t.endpoints(host).uploads(repository);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return {
    method: "POST",
    url,
    headers: new Headers(),
    body: new Uint8Array(0),
    subject: { repository, reference: query["mount"] },
    scopes,
    ...(op ? { op } : {}),
  };
}

/**
 * PUTs bytes into an open session, once. Returns undefined when done, or what went wrong in a
 * way that a new session may fix (the caller restarts).
 */
export async function putIntoSession(
  t: Transport,
  session: URL,
  repository: string,
  digest: string,
  bytes: Uint8Array,
  op?: OpCounter,
): Promise<{ retry: "rate-limited" | "failed"; error: RegistryError } | undefined> {
  const req: HttpRequest = {
    method: "PUT",
    url: session,
    headers: new Headers({ "content-type": "application/octet-stream" }),
    body: bytes,
    subject: { repository, reference: digest },
    scopes: [push(repository)],
    retry: "none",
    ...(op ? { op } : {}),
  };
  let res: HttpResponse;
  try {
    res = await t.send(req);
  } catch (err) {
    if (err instanceof RegistryError && err.retryable) return { retry: "failed", error: err };
    throw err;
  }
  if (res.status === 201 || res.status === 204) {
    const reported = res.headers.get("docker-content-digest");
    if (reported !== null && reported.trim() !== digest) {
      throw requestError(req, "digest", `registry stored the blob as ${reported.trim()}`, { status: res.status });
    }
    return undefined;
  }
  if (res.status === 429) return { retry: "rate-limited", error: errorFromResponse(req, res) };
  if (isRetryableStatus(res.status)) return { retry: "failed", error: errorFromResponse(req, res) };
  throw errorFromResponse(req, res);
}

export async function uploadBlob(t: Transport, host: string, repository: string, digest: string, bytes: Uint8Array, op?: OpCounter): Promise<void> {
  checkRepository(host, repository);
  checkDigest(host, digest);
  const actual = await digestOf(bytes, digest);
  if (actual !== digest) {
    throw new RegistryError({ host, method: "PUT", repository, reference: digest, kind: "digest", detail: `bytes have digest ${actual}: not pushed` });
  }
  let failures = 0;
  let rateLimited = 0;
  for (;;) {
    const open = openRequest(t, host, repository, [push(repository)], {}, op);
    const res = await t.send(open);
    if (res.status !== 202) throw errorFromResponse(open, res, "opening an upload");
    const outcome = await putIntoSession(t, sessionUrl(res, open, digest), repository, digest, bytes, op);
    if (outcome === undefined) return;
    if (outcome.retry === "rate-limited") {
      if (++rateLimited > t.tuning.maxRateLimitWaits) throw outcome.error;
    } else {
      if (++failures >= t.tuning.maxAttempts) throw outcome.error;
      try {
        await t.clock.sleep(retryDelayMs(failures, { baseMs: t.tuning.retryBaseMs, maxMs: t.tuning.retryMaxMs }), t.signal);
      } catch (err) {
        throw requestError(open, "network", `aborted (${messageOf(t.signal?.reason ?? err)})`);
      }
    }
    t.stats.retry(hostOf(open.url));
  }
}
