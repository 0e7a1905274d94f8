// The stack, top to bottom, each layer wrapping the one below (as go-containerregistry's
// transport): auth -> redirect -> retry -> limiter (pause gate, bottleneck, send window) ->
// stats -> user agent -> one attempt through ky (tls-fetch for the host's CA).
import { attemptLayer } from "./attempt.ts";
import { Authenticator } from "./auth.ts";
import { BearerTokens } from "./bearer.ts";
import { systemClock, type Clock } from "./clock.ts";
import { tuningOf, type RegistryConfig, type Tuning } from "./config.ts";
import { DeclaredRepositories } from "./declared.ts";
import type { ManifestBytes } from "./descriptor.ts";
import { PauseGate } from "./gate.ts";
import { HostLimiter } from "./limiter.ts";
import { Endpoints } from "./paths.ts";
import { redirectLayer } from "./redirect.ts";
import { retryLayer } from "./retry.ts";
import { baseUrl, lookupHost, transportFor, type SchemeConfig } from "./scheme.ts";
import { SourceCache } from "./source-cache.ts";
import { statsLayer, StatsStore } from "./stats.ts";
import { createHostFetch, readCaFile, type FetchLike, type HostFetch } from "./tls-fetch.ts";
import { TokenCache } from "./token-cache.ts";
import type { RoundTrip } from "./types.ts";
import { userAgentLayer } from "./useragent.ts";

export interface Transport {
  /** The whole stack: what every verb sends through. */
  readonly send: RoundTrip;
  readonly tuning: Tuning;
  readonly stats: StatsStore;
  readonly gate: PauseGate;
  readonly limiter: HostLimiter;
  readonly auth: Authenticator;
  readonly declared: DeclaredRepositories;
  readonly clock: Clock;
  readonly signal?: AbortSignal | undefined;
  /** Verified source content of copies, kept for the run (see source-cache.ts). */
  readonly sourceManifests: SourceCache<ManifestBytes>;
  readonly sourceBlobs: SourceCache<Uint8Array>;
  endpoints(host: string): Endpoints;
  close(): void;
}

export function buildTransport(config: RegistryConfig): Transport {
  const tuning = tuningOf(config);
  const clock = config.clock ?? systemClock;
  const scheme: SchemeConfig = { caFiles: lowerKeys(config.caFiles), insecure: new Set([...config.insecure].map((h) => h.toLowerCase())) };
  const rates = lowerKeys(config.rates);
  const concurrency = lowerKeys(config.concurrency);
  const stats = new StatsStore();
  const gate = new PauseGate({ clock, backoffBaseMs: tuning.backoffBaseMs, backoffMaxMs: tuning.backoffMaxMs });

  const fetches = new Map<string, HostFetch>();
  const fetchFor = (host: string): FetchLike => {
    let f = fetches.get(host);
    if (f === undefined) {
      const t = transportFor(scheme, host);
      f = createHostFetch(
        t.scheme === "https" && (t.caFile !== undefined || !t.verify)
          ? { ...(t.caFile !== undefined ? { caPem: readCaFile(t.caFile) } : {}), verify: t.verify }
          : undefined,
        tuning.keepAlive,
      );
      fetches.set(host, f);
    }
    return f.fetch;
  };

  const attempt = attemptLayer({
    fetchFor,
    attemptTimeoutMs: tuning.attemptTimeoutMs,
    stallTimeoutMs: tuning.stallTimeoutMs,
    attemptDeadlineMs: tuning.attemptDeadlineMs,
    maxBodyBytes: tuning.maxBlobBytes,
    signal: config.signal,
  });
  const counted = statsLayer(userAgentLayer(attempt, config.userAgent), stats);
  const limiter = new HostLimiter({
    rateFor: (host) => lookupHost(rates, host) ?? config.rateDefault,
    concurrencyFor: (host) => lookupHost(concurrency, host) ?? config.concurrencyDefault,
    rateMarginMs: tuning.rateMarginMs,
    maxTotalConcurrency: tuning.maxTotalConcurrency,
    maxPauseMs: tuning.maxPauseMs,
    attemptDeadlineMs: tuning.attemptDeadlineMs,
    gate,
    clock,
    signal: config.signal,
  });
  const retried = retryLayer(limiter.layer(counted), {
    maxAttempts: tuning.maxAttempts,
    baseMs: tuning.retryBaseMs,
    maxMs: tuning.retryMaxMs,
    maxRateLimitWaits: tuning.maxRateLimitWaits,
    clock,
    stats,
    signal: config.signal,
  });
  const below = redirectLayer(retried);
  const declared = new DeclaredRepositories(tuning.maxScopesPerToken);
  const bearer = new BearerTokens({
    send: below,
    credentials: config.credentials,
    cache: new TokenCache(() => clock.now()),
    declared,
    stats,
    clock,
    plainHttpAllowed: (host) => transportFor(scheme, host).scheme === "http",
  });
  const auth = new Authenticator({ credentials: config.credentials, bearer });
  const endpoints = new Map<string, Endpoints>();
  return {
    send: auth.layer(below),
    tuning,
    stats,
    gate,
    limiter,
    auth,
    declared,
    clock,
    signal: config.signal,
    sourceManifests: new SourceCache<ManifestBytes>((m) => m.bytes.length),
    sourceBlobs: new SourceCache<Uint8Array>((b) => b.length),
    endpoints(host) {
      const h = host.toLowerCase();
      let e = endpoints.get(h);
      if (e === undefined) {
        e = new Endpoints(baseUrl(scheme, h));
        endpoints.set(h, e);
      }
      return e;
    },
    close() {
      limiter.close();
      for (const f of fetches.values()) f.close();
      fetches.clear();
    },
  };
}

function lowerKeys<T>(map: ReadonlyMap<string, T>): ReadonlyMap<string, T> {
  return new Map([...map].map(([k, v]) => [k.toLowerCase(), v]));
}
