// Time, injectable so the pause gate and the backoffs can be tested without waiting.

export interface Clock {
  /**
   * Milliseconds since the epoch, monotonic: performance.timeOrigin + performance.now(), so that a
   * wall-clock step does not open or shut a rate window (Retry-After dates are converted with
   * `wallNow`).
   */
  now(): number;
  /** The wall clock, for HTTP-dates. */
  wallNow(): number;
  /** Resolves after ms, or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  wallNow: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};
