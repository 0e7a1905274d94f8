// What the client is told by the CLI (RegistryConfig) and the tuning it fills in by default.
import type { Clock } from "./clock.ts";
import type { CredentialProvider } from "./credentials/index.ts";

export interface RegistryConfig {
  /** `sigmirror/<version>`: every request carries it, so quota use can be attributed. */
  readonly userAgent: string;
  /** Requests per second per host, unless `rates` names the host. */
  readonly rateDefault: number;
  readonly rates: ReadonlyMap<string, number>;
  /** Requests in flight per host, unless `concurrency` names the host. */
  readonly concurrencyDefault: number;
  readonly concurrency: ReadonlyMap<string, number>;
  /** HOST -> CA bundle file: HTTPS verified against it (loopback hosts too). */
  readonly caFiles: ReadonlyMap<string, string>;
  /** `HOST`: plain HTTP; `https://HOST`: HTTPS without certificate verification. */
  readonly insecure: ReadonlySet<string>;
  readonly credentials: CredentialProvider;
  /** Aborts waits and requests in flight. */
  readonly signal?: AbortSignal;

  /** Time to the response's headers, per attempt (default 30 s). */
  readonly attemptTimeoutMs?: number;
  /** Longest silence while a body is read (default 30 s). */
  readonly stallTimeoutMs?: number;
  /** An attempt, body included, never runs longer (default 5 min). */
  readonly attemptDeadlineMs?: number;
  /** Attempts per request for 5xx, resets and timeouts (default 6, at least 1). */
  readonly maxAttempts?: number;
  /** Retry backoff: base * 2^(n-1), jittered, capped (defaults 500 ms, 16 s). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** 429s one request waits out before it fails (default 30): they use no attempt. */
  readonly maxRateLimitWaits?: number;
  /** A host asking for a longer pause than this fails its requests at once (default 10 min). */
  readonly maxPauseMs?: number;
  /** Per-host pause after 429s without timing headers: base * 2^(n-1), capped (defaults 1 s, 60 s). */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /**
   * Margin per 1 s window for the difference between our send times and the server's arrival
   * times (latency varies: network jitter, a busy event loop): default 50 ms, so R requests/s are
   * sent as R per 1.05 s, about 5% under the rate.
   */
  readonly rateMarginMs?: number;
  /** Sum of all hosts' concurrency (default 240: Bun queues fetches beyond 256). */
  readonly maxTotalConcurrency?: number;
  /** Largest blob read (default 256 MiB) and manifest read (default 8 MiB). */
  readonly maxBlobBytes?: number;
  readonly maxManifestBytes?: number;
  /** Repositories asked for in one token when several are declared (default 10). */
  readonly maxScopesPerToken?: number;
  /** Reuse connections (default false: see tls-fetch.ts for why). */
  readonly keepAlive?: boolean;
  /** For tests. */
  readonly clock?: Clock;
}

export type Tuning = Required<
  Pick<
    RegistryConfig,
    | "attemptTimeoutMs"
    | "stallTimeoutMs"
    | "attemptDeadlineMs"
    | "maxAttempts"
    | "retryBaseMs"
    | "retryMaxMs"
    | "maxRateLimitWaits"
    | "maxPauseMs"
    | "backoffBaseMs"
    | "backoffMaxMs"
    | "rateMarginMs"
    | "maxTotalConcurrency"
    | "maxBlobBytes"
    | "maxManifestBytes"
    | "maxScopesPerToken"
    | "keepAlive"
  >
>;

export const defaultTuning: Tuning = {
  attemptTimeoutMs: 30_000,
  stallTimeoutMs: 30_000,
  attemptDeadlineMs: 5 * 60_000,
  maxAttempts: 6,
  retryBaseMs: 500,
  retryMaxMs: 16_000,
  maxRateLimitWaits: 30,
  maxPauseMs: 10 * 60_000,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  rateMarginMs: 50,
  maxTotalConcurrency: 240,
  maxBlobBytes: 256 * 1024 * 1024,
  maxManifestBytes: 8 * 1024 * 1024,
  maxScopesPerToken: 10,
  keepAlive: false,
};

export function tuningOf(config: RegistryConfig): Tuning {
  const pick = <K extends keyof Tuning>(k: K): Tuning[K] => (config[k] as Tuning[K] | undefined) ?? defaultTuning[k];
  return {
    attemptTimeoutMs: pick("attemptTimeoutMs"),
    stallTimeoutMs: pick("stallTimeoutMs"),
    attemptDeadlineMs: pick("attemptDeadlineMs"),
    maxAttempts: Math.max(1, pick("maxAttempts")),
    retryBaseMs: pick("retryBaseMs"),
    retryMaxMs: pick("retryMaxMs"),
    maxRateLimitWaits: pick("maxRateLimitWaits"),
    maxPauseMs: pick("maxPauseMs"),
    backoffBaseMs: pick("backoffBaseMs"),
    backoffMaxMs: pick("backoffMaxMs"),
    rateMarginMs: pick("rateMarginMs"),
    maxTotalConcurrency: pick("maxTotalConcurrency"),
    maxBlobBytes: pick("maxBlobBytes"),
    maxManifestBytes: pick("maxManifestBytes"),
    maxScopesPerToken: Math.max(1, pick("maxScopesPerToken")),
    keepAlive: pick("keepAlive"),
  };
}
