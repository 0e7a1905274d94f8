// The harness's own registry requests (plain fetch, not the project's client), with auth for all
// three flavours: Basic for htpasswd, a Bearer token fetched proactively from the token server
// for token (no 401 round trip, so request counts stay predictable). User agent
// "sigmirror-harness/1": these requests do appear in accessLog().
import "./no-proxy.ts";
import type { TestRegistry } from "./registry.ts";

export const harnessAgent = "sigmirror-harness/1";

export interface HarnessRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Token scope, e.g. "repository:a/b:pull,push" (token flavour; default: pull,push,delete on the path's repository). */
  scope?: string;
}

interface CachedToken {
  readonly token: string;
  readonly until: number;
}

const tokens = new WeakMap<TestRegistry, Map<string, CachedToken>>();

function basic(user: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`;
}

/** Repository named by a /v2/<name>/(manifests|blobs|tags)/... path. */
export function repositoryOf(path: string): string | undefined {
  const m = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(new URL(path, "http://x").pathname);
  return m?.[1];
}

export async function bearerToken(reg: TestRegistry, scope: string): Promise<string> {
  const server = reg.tokenServer;
  if (!server) throw new Error(`bearerToken: ${reg.host} has no token server`);
  let perReg = tokens.get(reg);
  if (!perReg) tokens.set(reg, (perReg = new Map()));
  const cached = perReg.get(scope);
  if (cached && cached.until > Date.now()) return cached.token;
  const url = new URL(server.realm);
  url.searchParams.set("service", server.service);
  url.searchParams.set("scope", scope);
  const res = await fetch(url, {
    headers: { "User-Agent": harnessAgent, ...(reg.credentials ? { Authorization: basic(reg.credentials) } : {}) },
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) {
    await res.arrayBuffer();
    throw new Error(`token server ${server.url} answered ${res.status} for scope ${scope}`);
  }
  const body: unknown = await res.json();
  const token =
    typeof body === "object" && body !== null && "token" in body && typeof body.token === "string" ? body.token : undefined;
  if (!token) throw new Error(`token server ${server.url}: no token in response`);
  perReg.set(scope, { token, until: Date.now() + (server.expiresIn - 10) * 1000 });
  return token;
}

/** Headers that authenticate a request to reg for scope (none for anonymous). */
export async function authHeaders(reg: TestRegistry, scope: string | undefined): Promise<Record<string, string>> {
  if (reg.auth === "htpasswd" && reg.credentials) return { Authorization: basic(reg.credentials) };
  if (reg.auth === "token" && scope) return { Authorization: `Bearer ${await bearerToken(reg, scope)}` };
  return {};
}

/** fetch's TLS options for reg (trusts its CA). */
export function tlsFor(reg: TestRegistry): { tls?: { ca: string } } {
  return reg.caPem ? { tls: { ca: reg.caPem } } : {};
}

/** One authenticated request to reg; `path` may be a /v2/... path or an absolute URL (a Location). */
export async function registryFetch(reg: TestRegistry, path: string, req: HarnessRequest = {}): Promise<Response> {
  const url = new URL(path, reg.url);
  if (url.host !== reg.host) throw new Error(`registryFetch: ${url.href} is not on ${reg.host}`);
  const repo = repositoryOf(url.pathname);
  const scope =
    req.scope ??
    (repo ? `repository:${repo}:pull,push,delete` : url.pathname === "/v2/_catalog" ? "registry:catalog:*" : undefined);
  return fetch(url, {
    method: req.method ?? "GET",
    headers: { "User-Agent": harnessAgent, ...(await authHeaders(reg, scope)), ...req.headers },
    ...(req.body !== undefined ? { body: req.body } : {}),
    redirect: "manual",
    signal: AbortSignal.timeout(10_000),
    ...tlsFor(reg),
  });
}

/** Like registryFetch, but throws (with the response body) unless the status is one of `ok`. */
export async function expectStatus(
  reg: TestRegistry,
  path: string,
  req: HarnessRequest,
  ok: readonly number[],
): Promise<Response> {
  const res = await registryFetch(reg, path, req);
  if (!ok.includes(res.status)) {
    const text = await res.text();
    throw new Error(`${req.method ?? "GET"} ${reg.host}${path} answered ${res.status}, expected ${ok.join("/")}: ${text.slice(0, 500)}`);
  }
  return res;
}
