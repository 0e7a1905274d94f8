// Registry credentials per host: Docker's config (inline or a credential helper), then a Google
// access token for Google hosts, then anonymous. See `credentialsHelp` for the user's view.
import { getFromHelper, type HelperCredential } from "./cred-helper.ts";
import { helperFor, loadDockerConfig, type DockerConfig } from "./docker-config.ts";
import { CredentialError } from "./error.ts";
import { loadGoogleKey, type GoogleKey } from "./google-key.ts";
import { authorizedUserToken, metadataToken, serviceAccountToken, type AccessToken, type FetchLike, type TokenDeps } from "./google-token.ts";
import { helperServerUrl, isGoogleHost, normalizeHost } from "./hosts.ts";
import { missingHelpers, type MissingHelper } from "./missing-helpers.ts";
import { Refreshing, type Expiring } from "./refreshing.ts";

export { CredentialError } from "./error.ts";
export { credentialsHelp } from "./help.ts";
export { isGoogleHost, normalizeHost } from "./hosts.ts";
export type { MissingHelper } from "./missing-helpers.ts";

/** What to send as Basic to the registry or to its token realm. */
export interface Credential {
  username: string;
  password: string;
  /**
   * Docker's `identitytoken` (or a helper's answer with Username `<token>`): an OAuth2 refresh
   * token for the realm. Then username is `<token>` and password the token, usable as Basic; docker
   * and containers/image instead POST `grant_type=refresh_token&refresh_token=<it>` to the realm.
   */
  identityToken?: string;
  /** Where it came from, for messages (never secret): a file and key, a helper, an endpoint. */
  source?: string;
  /** When the password stops working (ms since the epoch), if known: Google access tokens. */
  expiresAt?: number;
}

export interface CredentialProvider {
  /** Cached; refreshed before expiry. Rejects with a one-line CredentialError. */
  forHost(host: string): Promise<Credential | undefined>;
}

export interface CredentialProviderOptions {
  /** DOCKER_CONFIG, HOME, GOOGLE_APPLICATION_CREDENTIALS, GCE_METADATA_HOST, CLOUDSDK_CONFIG, PATH (and what helpers need). */
  env: Readonly<Record<string, string | undefined>>;
  /** `--registry-config FILE`: replaces the default search; must be readable. */
  dockerConfigFile?: string;
  /** Token endpoints and the metadata server are asked through this; default: global fetch. */
  fetch?: FetchLike;
  /** Called with the endpoint's host before each Google token request (oauth2.googleapis.com, the metadata host). */
  onTokenRequest?: (host: string) => void;
  now?: () => number;
  /** A credential helper's answer is reused this long (default 60 s): helpers give no expiry. */
  helperCacheMs?: number;
  /** A helper that has not answered by then is killed (default 20 s). */
  helperTimeoutMs?: number;
  /** Per token request (default 15 s; the metadata server's too). */
  tokenTimeoutMs?: number;
}

export interface CredentialProviderWithExtras extends CredentialProvider {
  /** Drops what is cached for host (its helper answer, and the Google token for a Google host): call when the registry or its realm rejected it. */
  forget(host: string): void;
  /** Which source serves host, or why none does; never secret. */
  explain(host: string): Promise<string>;
  /** The credential helpers these hosts would run that are not on PATH (looked up, not run): check before the first request. */
  missingHelpers(hosts: Iterable<string>): MissingHelper[];
}

export const oauth2Username = "oauth2accesstoken";
/** Refresh a Google token when this much of it is left (or half its lifetime, if that is less). */
const googleRefreshMarginMs = 5 * 60_000;
/** Not on GCE/GKE: ask the metadata server again after this long. */
const metadataRecheckMs = 60_000;

type Found = { readonly credential: Credential; readonly why?: undefined } | { readonly credential?: undefined; readonly why: string };

interface GoogleResult {
  readonly token: AccessToken | undefined;
  readonly source: string;
}

/**
 * Reads the Docker config now (throws CredentialError with `input: true` for a malformed file or
 * an unreadable --registry-config: map it to exit 2); everything else is read when first needed.
 */
export function createCredentialProvider(opts: CredentialProviderOptions): CredentialProviderWithExtras {
  const now = opts.now ?? Date.now;
  const env = opts.env;
  const docker: DockerConfig = loadDockerConfig(env, opts.dockerConfigFile);
  const configName = docker.file ?? "Docker config";
  const helperCacheMs = opts.helperCacheMs ?? 60_000;
  const helperOptions = { env, timeoutMs: opts.helperTimeoutMs ?? 20_000 };
  const tokenDeps: TokenDeps = {
    fetch: opts.fetch ?? ((url, init) => fetch(url, init)),
    now,
    timeoutMs: opts.tokenTimeoutMs ?? 15_000,
    ...(opts.onTokenRequest ? { onTokenRequest: opts.onTokenRequest } : {}),
  };

  const helperAnswers = new Map<string, Refreshing<HelperCredential | undefined>>();
  function askHelper(name: string, host: string, origin: string): Promise<HelperCredential | undefined> {
    const cacheKey = `${name}\n${host}`;
    let entry = helperAnswers.get(cacheKey);
    if (entry === undefined) {
      entry = new Refreshing(
        async () => ({ value: await getFromHelper(name, helperServerUrl(host), helperOptions, origin), expiresAt: now() + helperCacheMs }),
        { now },
      );
      helperAnswers.set(cacheKey, entry);
    }
    return entry.get();
  }

  async function fromDocker(host: string): Promise<Found> {
    const helper = helperFor(docker, host);
    if (helper !== undefined) {
      const got = await askHelper(helper.name, host, helper.origin);
      if (got === undefined) return { why: `docker-credential-${helper.name} has no credentials for ${host}` };
      return { credential: { ...got, source: `docker-credential-${helper.name} (${helper.origin})` } };
    }
    const inline = docker.auths.get(host);
    if (inline !== undefined) {
      const { key, ...cred } = inline;
      return { credential: { ...cred, source: `${configName} auths[${JSON.stringify(key)}]` } };
    }
    return { why: docker.file === undefined ? "no Docker config" : `no entry for ${host} in ${docker.file}` };
  }

  let googleKey: { readonly key: GoogleKey | undefined } | { readonly error: unknown } | undefined;
  let google: Refreshing<GoogleResult> | undefined;
  function googleSource(): Refreshing<GoogleResult> {
    if (google !== undefined) return google;
    if (googleKey === undefined) {
      try {
        googleKey = { key: loadGoogleKey(env) };
      } catch (error) {
        googleKey = { error };
      }
    }
    if ("error" in googleKey) throw googleKey.error;
    const key = googleKey.key;
    let fetchToken: () => Promise<Expiring<GoogleResult>>;
    if (key?.type === "service_account") {
      const source = `Google service account ${key.clientEmail} (${key.file})`;
      fetchToken = async () => {
        const token = await serviceAccountToken(key, tokenDeps);
        return { value: { token, source }, expiresAt: token.expiresAt };
      };
    } else if (key?.type === "authorized_user") {
      const source = `Google authorized_user (${key.file})`;
      fetchToken = async () => {
        const token = await authorizedUserToken(key, tokenDeps);
        return { value: { token, source }, expiresAt: token.expiresAt };
      };
    } else {
      fetchToken = async () => {
        const answer = await metadataToken(env, tokenDeps);
        if (answer.kind === "unreachable") return { value: { token: undefined, source: answer.why }, expiresAt: now() + metadataRecheckMs };
        return { value: { token: answer.token, source: "GCE metadata server" }, expiresAt: answer.token.expiresAt };
      };
    }
    google = new Refreshing(fetchToken, { now, marginMs: (lifetime) => Math.min(googleRefreshMarginMs, lifetime / 2) });
    return google;
  }

  async function fromGoogle(): Promise<Found> {
    const { token, source } = await googleSource().get();
    if (token === undefined) return { why: `no Google credentials file; ${source}` };
    return { credential: { username: oauth2Username, password: token.token, source, expiresAt: token.expiresAt } };
  }

  async function resolve(rawHost: string): Promise<Found> {
    const host = normalizeHost(rawHost);
    if (host === "") throw new CredentialError(`credentials: empty registry host`, false);
    const d = await fromDocker(host);
    if (d.credential !== undefined || !isGoogleHost(host)) return d;
    const g = await fromGoogle();
    return g.credential !== undefined ? g : { why: `${d.why}; ${g.why}` };
  }

  return {
    async forHost(host) {
      return (await resolve(host)).credential;
    },
    async explain(host) {
      const r = await resolve(host);
      return r.credential !== undefined ? `${normalizeHost(host)}: ${r.credential.source ?? "credentials"}` : `${normalizeHost(host)}: anonymous (${r.why})`;
    },
    missingHelpers(hosts) {
      return missingHelpers(docker, env, hosts);
    },
    forget(rawHost) {
      const host = normalizeHost(rawHost);
      for (const [k, v] of helperAnswers) if (k.endsWith(`\n${host}`)) v.forget();
      if (isGoogleHost(host)) google?.forget();
    },
  };
}
