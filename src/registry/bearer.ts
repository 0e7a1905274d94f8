// Bearer tokens from a challenge's realm: asked with the service and scopes, with the host's
// Basic credentials when we have them (or an OAuth2 refresh-token grant for Docker identity
// tokens), cached per host and scope until shortly before they expire, one request in flight per
// host and scope set.
import { basicAuthorization } from "./basic.ts";
import type { Challenge } from "./challenge.ts";
import type { Clock } from "./clock.ts";
import type { Credential, CredentialProvider } from "./credentials/index.ts";
import type { DeclaredRepositories } from "./declared.ts";
import { errorFromResponse, messageOf, RegistryError, requestError } from "./error.ts";
import { isLoopback } from "./scheme.ts";
import { scopeParams } from "./scopes.ts";
import { rememberSecret } from "../redact/redact.ts";
import type { StatsStore } from "./stats.ts";
import { defaultTokenLifetimeMs, type TokenCache } from "./token-cache.ts";
import type { HttpRequest, OpCounter, RoundTrip } from "./types.ts";

export type BearerChallenge = Extract<Challenge, { scheme: "bearer" }>;

export interface BearerOptions {
  /** The stack below auth: token requests are limited on the realm's host like any other. */
  readonly send: RoundTrip;
  readonly credentials: CredentialProvider;
  readonly cache: TokenCache;
  readonly declared: DeclaredRepositories;
  readonly stats: StatsStore;
  readonly clock: Clock;
  /** Hosts we may send credentials to over plain HTTP (loopback is always allowed). */
  readonly plainHttpAllowed: (host: string) => boolean;
}

interface TokenAnswer {
  readonly token: string;
  readonly expiresInMs: number;
}

function parseTokenAnswer(body: Uint8Array): TokenAnswer | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const token = Reflect.get(parsed, "token") ?? Reflect.get(parsed, "access_token");
  if (typeof token !== "string" || token === "") return undefined;
  const expires: unknown = Reflect.get(parsed, "expires_in");
  const seconds = typeof expires === "number" && Number.isFinite(expires) && expires > 0 ? expires : defaultTokenLifetimeMs / 1000;
  return { token, expiresInMs: seconds * 1000 };
}

/** Providers that can drop a rejected credential (the one in credentials/ can). */
function forget(provider: CredentialProvider, host: string): void {
  const f: unknown = Reflect.get(provider, "forget");
  if (typeof f === "function") Reflect.apply(f, provider, [host]);
}

/** A scope the registry refused even when asked for alone is not asked for again this long. */
const deniedForMs = 5 * 60_000;

function repositoriesOf(items: readonly string[]): string[] {
  const out = new Set<string>();
  for (const item of items) {
    const m = /^repository:(.+):[^:]+$/.exec(item);
    if (m?.[1] !== undefined) out.add(m[1]);
  }
  return [...out];
}

export class BearerTokens {
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly denied = new Map<string, number>();

  constructor(private readonly options: BearerOptions) {}

  cached(host: string, needed: readonly string[]): string | undefined {
    return this.options.cache.find(host, needed)?.token;
  }

  drop(host: string, token: string): void {
    this.options.cache.drop(host, token);
  }

  /** A token did not cover `items`: their repositories leave the declared batches. */
  fellShort(host: string, items: readonly string[]): void {
    this.options.declared.forget(host, repositoriesOf(items));
  }

  /** Even a token asked for exactly `items` was refused: do not ask again for a while. */
  deny(host: string, items: readonly string[]): void {
    this.denied.set(`${host}\n${items.join(" ")}`, this.options.clock.now() + deniedForMs);
  }

  isDenied(host: string, items: readonly string[]): boolean {
    const until = this.denied.get(`${host}\n${items.join(" ")}`);
    return until !== undefined && until > this.options.clock.now();
  }

  /**
   * A token of host covering `needed`: cached, or fetched (for the declared batch, unless
   * `exact`). `fresh`: skip the cache (the registry just refused what it had).
   */
  async token(
    host: string,
    challenge: BearerChallenge,
    needed: readonly string[],
    opts: { fresh?: boolean; exact?: boolean; op?: OpCounter | undefined } = {},
  ): Promise<string> {
    if (opts.fresh !== true) {
      const hit = this.cached(host, needed);
      if (hit !== undefined) return hit;
    }
    const wide = opts.exact === true ? needed : this.options.declared.expand(host, needed);
    try {
      return await this.fetchOnce(host, challenge, wide, opts.op);
    } catch (err) {
      // A batch may be refused for one repository the user cannot touch: ask for this one alone.
      if (wide.length === needed.length || !(err instanceof RegistryError) || err.kind !== "auth") throw err;
      return this.fetchOnce(host, challenge, needed, opts.op);
    }
  }

  /** `op`: the operation the request counts for (the first of those waiting for the same token). */
  private fetchOnce(host: string, challenge: BearerChallenge, items: readonly string[], op: OpCounter | undefined): Promise<string> {
    const key = `${host}\n${challenge.realm}\n${items.join(" ")}`;
    let p = this.inFlight.get(key);
    if (p === undefined) {
      p = this.fetch(host, challenge, items, op).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async credentialFor(host: string, req: { method: string; url: URL }): Promise<Credential | undefined> {
    try {
      return await this.options.credentials.forHost(host);
    } catch (err) {
      throw requestError(req, "auth", `credentials for ${host}: ${messageOf(err)}`);
    }
  }

  private async fetch(host: string, challenge: BearerChallenge, items: readonly string[], op: OpCounter | undefined): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(challenge.realm);
    } catch {
      throw new RegistryError({ host, method: "GET", kind: "auth", detail: `token realm ${JSON.stringify(challenge.realm)} is not a URL` });
    }
    const scopes = scopeParams(items);
    const subject = { reference: `token for ${scopes.join(" ") || "no scope"}` };
    const cred = await this.credentialFor(host, { method: "GET", url: realm });
    if (cred !== undefined && realm.protocol === "http:" && !isLoopback(realm.host) && !this.options.plainHttpAllowed(realm.host)) {
      throw requestError({ method: "GET", url: realm, subject }, "auth", `refusing to send ${host}'s credentials to a plain-HTTP realm`);
    }
    const headers = new Headers({ accept: "application/json" });
    let req: HttpRequest;
    const identityToken = cred?.identityToken;
    if (identityToken !== undefined) {
      // Docker's identity token is an OAuth2 refresh token: POSTed, as docker and containers/image do.
      rememberSecret(identityToken);
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: identityToken, client_id: "sigmirror" });
      if (challenge.service !== undefined) form.set("service", challenge.service);
      if (scopes.length > 0) form.set("scope", scopes.join(" "));
      headers.set("content-type", "application/x-www-form-urlencoded");
      req = { method: "POST", url: realm, headers, body: new TextEncoder().encode(form.toString()), subject, ...(op ? { op } : {}) };
    } else {
      const url = new URL(realm);
      if (challenge.service !== undefined) url.searchParams.set("service", challenge.service);
      for (const s of scopes) url.searchParams.append("scope", s);
      if (cred !== undefined) headers.set("authorization", basicAuthorization(cred.username, cred.password));
      req = { method: "GET", url, headers, subject, ...(op ? { op } : {}) };
    }
    this.options.stats.tokenRequest(host);
    const sentAt = this.options.clock.now();
    const res = await this.options.send(req);
    if (res.status === 401 || res.status === 403) {
      if (cred !== undefined) forget(this.options.credentials, host);
      throw errorFromResponse(req, res, cred === undefined ? "no credentials for this host" : `credentials from ${cred.source ?? "the config"} refused`);
    }
    if (res.status < 200 || res.status >= 300) throw errorFromResponse(req, res);
    const answer = parseTokenAnswer(res.body);
    if (answer === undefined) throw requestError(req, "auth", "token answer without a token", { status: res.status });
    rememberSecret(answer.token);
    this.options.cache.put(host, items, answer.token, answer.expiresInMs, sentAt);
    return answer.token;
  }
}
