// Per-request retry delays: exponential, capped, with jitter so that requests which failed
// together (a 503 burst, a reset connection pool) do not come back together.

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly random?: () => number;
}

/** Delay before retry number `retry` (1 = the first retry): half fixed, half random, of base * 2^(retry-1). */
export function retryDelayMs(retry: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}
