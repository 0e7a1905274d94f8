// The one runtime-specific spot of src/registry: how fetch is told which CA to trust, and how it
// is kept from reusing connections.
//
// - Bun takes `tls: { ca, rejectUnauthorized }` in the fetch init (an extension of RequestInit).
// - Deno takes a client made by `Deno.createHttpClient({ caCerts })` as `client`; it has no
//   per-client switch for unverified certificates (run deno with
//   `--unsafely-ignore-certificate-errors=HOST` for `--insecure-registry https://HOST`).
// - `keepalive: false`: Bun re-sends a GET, HEAD or PUT by itself, 1-2 ms later and outside our
//   limiter, when a reused keep-alive connection is reset, and may even report the re-sent
//   request's answer as if it were the first; the host then sees one request more than we
//   counted and than its rate allows. A fresh connection per request is never re-sent. In Deno
//   (and the Fetch standard) the flag means something else and false is the default.
// Each runtime ignores the other's field.
import { readFileSync } from "node:fs";

export type FetchLike = (input: Request | URL | string, init?: RequestInit) => Promise<Response>;

export interface TlsSettings {
  /** PEM bundle to trust instead of the system's CAs. */
  readonly caPem?: string;
  /** False: accept any certificate (only for `--insecure-registry https://HOST`). */
  readonly verify: boolean;
}

interface BunTlsInit extends RequestInit {
  tls?: { ca?: string; rejectUnauthorized?: boolean };
}

interface DenoHttpClient {
  close(): void;
}

interface DenoInit extends RequestInit {
  client?: DenoHttpClient;
}

interface DenoApi {
  createHttpClient(options: { caCerts?: string[] }): DenoHttpClient;
}

function denoApi(): DenoApi | undefined {
  const candidate: unknown = Reflect.get(globalThis, "Deno");
  if (typeof candidate !== "object" || candidate === null) return undefined;
  const create: unknown = Reflect.get(candidate, "createHttpClient");
  if (typeof create !== "function") return undefined;
  return { createHttpClient: (options) => Reflect.apply(create, candidate, [options]) as DenoHttpClient };
}

export interface HostFetch {
  readonly fetch: FetchLike;
  close(): void;
}

/** A fetch for one host's TLS settings; plain fetch (with keep-alive off) when there are none. */
export function createHostFetch(tls: TlsSettings | undefined, keepAlive = false): HostFetch {
  const deno = tls?.caPem !== undefined ? denoApi() : undefined;
  const client = deno !== undefined && tls?.caPem !== undefined ? deno.createHttpClient({ caCerts: [tls.caPem] }) : undefined;
  const extra: BunTlsInit & DenoInit = { keepalive: keepAlive };
  if (tls !== undefined) {
    extra.tls = { ...(tls.caPem !== undefined ? { ca: tls.caPem } : {}), rejectUnauthorized: tls.verify };
  }
  if (client !== undefined) extra.client = client;
  return {
    fetch: (input, init) => fetch(input, { ...init, ...extra }),
    close: () => client?.close(),
  };
}

/** Reads a CA bundle; the CLI has checked it already, so a failure here is a changed file. */
export function readCaFile(path: string): string {
  return readFileSync(path, "utf8");
}
