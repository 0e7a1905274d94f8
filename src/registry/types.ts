// The transport's own request and response: what every layer of the stack passes down and up.
// Bodies are whole byte arrays: manifests and cosign blobs are small, and a digest is checked
// over the whole body anyway.

export type Method = "GET" | "HEAD" | "PUT" | "POST" | "DELETE" | "PATCH";

export type Action = "pull" | "push" | "delete";

/** A repository and what a request needs to do to it (the bearer token's scope). */
export interface Scope {
  readonly repository: string;
  readonly actions: readonly Action[];
}

/** What a request is about, for one-line errors (the host is the URL's). */
export interface Subject {
  readonly repository?: string;
  readonly reference?: string;
}

/** Counts every attempt sent on behalf of one operation (a copy). */
export interface OpCounter {
  requests: number;
}

export interface HttpRequest {
  readonly method: Method;
  readonly url: URL;
  readonly headers: Headers;
  readonly body?: Uint8Array;
  readonly subject?: Subject;
  /** Scopes a bearer token for this request must carry; none for a ping. */
  readonly scopes?: readonly Scope[];
  /**
   * "idempotent" (default): the retry layer repeats it on 5xx, resets and timeouts.
   * "none": every outcome goes back to the caller, who restarts a bigger unit (an upload).
   */
  readonly retry?: "idempotent" | "none";
  /** Larger bodies fail the attempt; default from the config. */
  readonly maxBodyBytes?: number;
  readonly op?: OpCounter;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Empty for HEAD. */
  readonly body: Uint8Array;
  /** Where the answer came from (after redirects). */
  readonly url: URL;
}

/** One layer of the stack, or the stack itself. */
export type RoundTrip = (req: HttpRequest) => Promise<HttpResponse>;

/** A copy of `req` with `name` set (or removed, for undefined). */
export function withHeader(req: HttpRequest, name: string, value: string | undefined): HttpRequest {
  const headers = new Headers(req.headers);
  if (value === undefined) headers.delete(name);
  else headers.set(name, value);
  return { ...req, headers };
}

/** Host as the limiter, stats and credentials key it: `host[:port]`, lowercase. */
export function hostOf(url: URL): string {
  return url.host.toLowerCase();
}
