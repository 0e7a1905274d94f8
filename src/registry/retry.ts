// Retries for what may pass: 5xx, 408, resets and timeouts, with exponential backoff and
// jitter, a bounded number of attempts; and 429s, which are waited out in the host's pause
// gate (the limiter below already paused the host) and use no attempt. Every attempt goes down
// through the limiter again.
import { retryDelayMs } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import { messageOf, RegistryError, requestError } from "./error.ts";
import type { StatsStore } from "./stats.ts";
import type { HttpResponse, RoundTrip } from "./types.ts";
import { hostOf } from "./types.ts";

export interface RetryOptions {
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  /** 429 answers one request waits out before its 429 is handed back. */
  readonly maxRateLimitWaits: number;
  readonly clock: Clock;
  readonly stats: StatsStore;
  readonly signal?: AbortSignal | undefined;
  readonly random?: () => number;
}

const retryableStatuses = new Set([408, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return retryableStatuses.has(status);
}

export function retryLayer(next: RoundTrip, options: RetryOptions): RoundTrip {
  return async (req) => {
    if (req.retry === "none") return next(req);
    const host = hostOf(req.url);
    let failures = 0;
    let rateLimitWaits = 0;
    for (;;) {
      let outcome: HttpResponse | RegistryError;
      try {
        outcome = await next(req);
      } catch (err) {
        if (!(err instanceof RegistryError) || !err.retryable || options.signal?.aborted) throw err;
        outcome = err;
      }
      if (!(outcome instanceof RegistryError)) {
        if (outcome.status === 429) {
          if (++rateLimitWaits > options.maxRateLimitWaits) return outcome;
          options.stats.retry(host);
          continue;
        }
        if (!isRetryableStatus(outcome.status)) return outcome;
      }
      failures++;
      if (failures >= options.maxAttempts) {
        if (outcome instanceof RegistryError) throw outcome;
        return outcome;
      }
      options.stats.retry(host);
      // A 503 with Retry-After has paused the host already: that pause is the wait.
      const paused = !(outcome instanceof RegistryError) && outcome.headers.has("retry-after");
      if (!paused) {
        try {
          await options.clock.sleep(retryDelayMs(failures, { baseMs: options.baseMs, maxMs: options.maxMs, ...(options.random ? { random: options.random } : {}) }), options.signal);
        } catch (err) {
          throw requestError(req, "network", `aborted (${messageOf(options.signal?.reason ?? err)})`);
        }
      }
    }
  };
}
