// The bottom of the stack: one HTTP attempt through ky, nothing retried, nothing followed; the
// body read whole, with a timeout for a body that stops arriving.
import ky, { isNetworkError, isTimeoutError } from "ky";
import { requestError, RegistryError } from "./error.ts";
import type { FetchLike } from "./tls-fetch.ts";
import type { HttpRequest, HttpResponse, RoundTrip } from "./types.ts";
import { hostOf } from "./types.ts";

export interface AttemptOptions {
  /** The fetch for a host (its TLS settings). */
  readonly fetchFor: (host: string) => FetchLike;
  readonly attemptTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly attemptDeadlineMs: number;
  readonly maxBodyBytes: number;
  readonly signal?: AbortSignal | undefined;
}

const empty = new Uint8Array(0);

/** Certificate problems: trying again will not help; the user must configure a CA. */
const tlsCodes = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME|TLS|SSL|HANDSHAKE/i;

function codeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (typeof e === "object") {
      const code: unknown = Reflect.get(e, "code");
      if (typeof code === "string" && code !== "") return code;
      e = Reflect.get(e, "cause");
    } else break;
  }
  return undefined;
}

function rootMessage(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error && e.cause instanceof Error; depth++) e = e.cause;
  const text = e instanceof Error ? e.message : String(e);
  // Bun appends advice about `verbose: true`; keep the first sentence.
  return text.split(". For more information")[0] ?? text;
}

function classify(err: unknown, req: HttpRequest, options: AttemptOptions, deadline: AbortSignal): RegistryError {
  if (err instanceof RegistryError) return err;
  if (options.signal?.aborted) {
    return requestError(req, "network", `aborted (${rootMessage(options.signal.reason)})`);
  }
  if (deadline.aborted) {
    return requestError(req, "timeout", `attempt took longer than ${options.attemptDeadlineMs} ms`, { retryable: true });
  }
  if (isTimeoutError(err)) {
    return requestError(req, "timeout", `no response within ${options.attemptTimeoutMs} ms`, { retryable: true });
  }
  const code = codeOf(err);
  const message = rootMessage(err);
  if (tlsCodes.test(code ?? "") || /certificate/i.test(message)) {
    const why = code !== undefined && !message.includes(code) ? `${message}, ${code}` : message;
    return requestError(req, "network", `TLS: ${why} (trust its CA with --registry-ca HOST=FILE)`);
  }
  const shown = code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
  return requestError(req, "network", isNetworkError(err) || code !== undefined ? shown : `fetch failed: ${shown}`, { retryable: true });
}

async function readBody(res: Response, req: HttpRequest, options: AttemptOptions, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > max) {
    void res.body?.cancel().catch(() => undefined);
    throw requestError(req, "http", `body of ${declared} bytes is larger than the ${max} allowed`, { status: res.status });
  }
  if (res.body === null) return empty;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<"stalled">((resolve) => {
      timer = setTimeout(() => resolve("stalled"), options.stallTimeoutMs);
    });
    let chunk: Awaited<ReturnType<typeof reader.read>> | "stalled";
    try {
      chunk = await Promise.race([reader.read(), stalled]);
    } catch (err) {
      throw requestError(req, "network", `body cut off after ${total} bytes: ${rootMessage(err)}`, { retryable: true });
    } finally {
      clearTimeout(timer);
    }
    if (chunk === "stalled") {
      void reader.cancel().catch(() => undefined);
      throw requestError(req, "timeout", `body stalled for ${options.stallTimeoutMs} ms after ${total} bytes`, { retryable: true });
    }
    if (chunk.done) break;
    total += chunk.value.byteLength;
    if (total > max) {
      void reader.cancel().catch(() => undefined);
      throw requestError(req, "http", `body larger than the ${max} bytes allowed`, { status: res.status });
    }
    chunks.push(chunk.value);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export function attemptLayer(options: AttemptOptions): RoundTrip {
  return async (req: HttpRequest): Promise<HttpResponse> => {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error("attempt deadline")), options.attemptDeadlineMs);
    const signal = options.signal === undefined ? deadline.signal : AbortSignal.any([options.signal, deadline.signal]);
    try {
      const res = await ky(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        // Retries, and every 429 wait, belong to our layers, where each attempt passes the host's limiter.
        retry: { limit: 0 },
        timeout: options.attemptTimeoutMs,
        throwHttpErrors: false,
        redirect: "manual",
        fetch: options.fetchFor(hostOf(req.url)),
        signal,
      });
      const body = req.method === "HEAD" ? empty : await readBody(res, req, options, req.maxBodyBytes ?? options.maxBodyBytes);
      if (req.method === "HEAD") void res.body?.cancel().catch(() => undefined);
      return { status: res.status, headers: res.headers, body, url: req.url };
    } catch (err) {
      throw classify(err, req, options, deadline.signal);
    } finally {
      clearTimeout(timer);
    }
  };
}
