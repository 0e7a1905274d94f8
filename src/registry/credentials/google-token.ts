// OAuth access tokens for Google's registries: from a service account key (JWT-bearer grant),
// an authorized_user refresh token, or the GCE/GKE metadata server.
import { CredentialError, messageOf, oneLine, scrub } from "./error.ts";
import type { AuthorizedUser, ServiceAccountKey } from "./google-key.ts";
import { cloudPlatformScope, importSigningKey, jwtLifetimeSeconds, signJwt } from "./jwt.ts";

type Env = Readonly<Record<string, string | undefined>>;

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface TokenDeps {
  readonly fetch: FetchLike;
  readonly now: () => number;
  /** Called with the endpoint's host before each token request is sent. */
  readonly onTokenRequest?: (host: string) => void;
  readonly timeoutMs: number;
}

export interface AccessToken {
  readonly token: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

export const metadataDefaultHost = "metadata.google.internal";
const metadataTokenPath = "/computeMetadata/v1/instance/service-accounts/default/token";
/** When a token answer has no expires_in: assume little, refresh early. */
const fallbackLifetimeSeconds = 300;
const maxBodyChars = 65_536;

export function metadataTokenUrl(env: Env): string {
  const host = env.GCE_METADATA_HOST !== undefined && env.GCE_METADATA_HOST !== "" ? env.GCE_METADATA_HOST : metadataDefaultHost;
  return `http://${host}${metadataTokenPath}`;
}

async function send(url: string, init: RequestInit, label: string, secrets: readonly string[], deps: TokenDeps): Promise<Response> {
  deps.onTokenRequest?.(new URL(url).host);
  try {
    return await deps.fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(deps.timeoutMs) });
  } catch (err) {
    throw new CredentialError(`${label}: request failed (${oneLine(scrub(messageOf(err), secrets))})`, false);
  }
}

async function bodyText(res: Response): Promise<string> {
  try {
    return (await res.text()).slice(0, maxBodyChars);
  } catch {
    return "";
  }
}

/** Parses a token answer; a refusal becomes one line with OAuth's `error` and `error_description`. */
async function readToken(res: Response, label: string, secrets: readonly string[], startedAt: number): Promise<AccessToken> {
  const text = await bodyText(res);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  const rec = typeof doc === "object" && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  if (res.status < 200 || res.status > 299) {
    const parts = [rec?.error, rec?.error_description].filter((p): p is string => typeof p === "string" && p !== "");
    const why = parts.length > 0 ? `: ${oneLine(scrub(parts.join(": "), secrets), 200)}` : "";
    throw new CredentialError(`${label}: answered ${res.status}${why}`, false);
  }
  const token = rec?.access_token;
  if (typeof token !== "string" || token === "") throw new CredentialError(`${label}: answer has no access_token`, false);
  const raw = rec?.expires_in;
  const seconds = typeof raw === "number" ? raw : typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : fallbackLifetimeSeconds;
  return { token, expiresAt: startedAt + Math.max(0, seconds) * 1000 };
}

const formHeaders = { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" };

/** JWT-bearer grant (RFC 7523): an RS256 assertion signed with the key, traded for an access token. */
export async function serviceAccountToken(key: ServiceAccountKey, deps: TokenDeps): Promise<AccessToken> {
  const label = `Google token endpoint ${key.tokenUri} (service account key ${key.file})`;
  let signingKey: CryptoKey;
  try {
    signingKey = await importSigningKey(key.privateKey);
  } catch {
    throw new CredentialError(`Google credentials ${key.file}: private_key cannot be imported as an RSA PKCS#8 key`, true);
  }
  const startedAt = deps.now();
  const iat = Math.floor(startedAt / 1000);
  const assertion = await signJwt(
    signingKey,
    { iss: key.clientEmail, scope: cloudPlatformScope, aud: key.tokenUri, iat, exp: iat + jwtLifetimeSeconds },
    key.privateKeyId,
  );
  const secrets = [assertion, key.privateKey];
  const body = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString();
  const res = await send(key.tokenUri, { method: "POST", headers: formHeaders, body }, label, secrets, deps);
  return readToken(res, label, secrets, startedAt);
}

/** Refresh-token grant with the OAuth client gcloud used for `application-default login`. */
export async function authorizedUserToken(key: AuthorizedUser, deps: TokenDeps): Promise<AccessToken> {
  const label = `Google token endpoint ${key.tokenUri} (authorized_user ${key.file})`;
  const secrets = [key.refreshToken, key.clientSecret];
  const body = new URLSearchParams({
    grant_type: "refresh_token",
    client_id: key.clientId,
    client_secret: key.clientSecret,
    refresh_token: key.refreshToken,
  }).toString();
  const startedAt = deps.now();
  const res = await send(key.tokenUri, { method: "POST", headers: formHeaders, body }, label, secrets, deps);
  return readToken(res, label, secrets, startedAt);
}

export type MetadataAnswer = { readonly kind: "token"; readonly token: AccessToken } | { readonly kind: "unreachable"; readonly why: string };

/**
 * The instance's (or, with workload identity, the pod's) service account token. A server that
 * cannot be reached means "not on GCE/GKE" (the caller goes anonymous); a server that answers
 * with an error is an error.
 */
export async function metadataToken(env: Env, deps: TokenDeps): Promise<MetadataAnswer> {
  const url = metadataTokenUrl(env);
  const label = `GCE metadata server ${url}`;
  const startedAt = deps.now();
  deps.onTokenRequest?.(new URL(url).host);
  let res: Response;
  try {
    res = await deps.fetch(url, { method: "GET", headers: { "Metadata-Flavor": "Google" }, redirect: "manual", signal: AbortSignal.timeout(deps.timeoutMs) });
  } catch (err) {
    return { kind: "unreachable", why: `${label} unreachable (${oneLine(messageOf(err), 120)})` };
  }
  if (res.headers.get("metadata-flavor")?.toLowerCase() !== "google") {
    await bodyText(res);
    throw new CredentialError(`${label}: answered ${res.status} without "Metadata-Flavor: Google" (not a metadata server)`, false);
  }
  return { kind: "token", token: await readToken(res, label, [], startedAt) };
}
