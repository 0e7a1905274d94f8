// The strict half of the rate limit: at most `capacity` sends in any window, judged by when
// requests were actually handed to fetch. bottleneck's minTime spaces job starts, but its timers
// fire late and in bunches when the event loop is busy; this check holds regardless.

export interface RateShape {
  /** Sends allowed in any window. */
  readonly capacity: number;
  readonly windowMs: number;
  /** Spacing for bottleneck's minTime, so the window check rarely has to wait. */
  readonly minTimeMs: number;
}

/**
 * `rate` requests/s as a window with `marginMs` to spare, so that arrival times at the server
 * (send time plus a varying latency) stay within the rate too. A rate of 1 or more allows
 * floor(rate) requests in any 1 s (+ margin); below 1, one request per 1/rate s (+ margin).
 */
export function rateShape(rate: number, marginMs: number): RateShape {
  if (rate >= 1) {
    const capacity = Math.floor(rate);
    const windowMs = 1000 + marginMs;
    return { capacity, windowMs, minTimeMs: windowMs / capacity };
  }
  const windowMs = 1000 / rate + marginMs;
  return { capacity: 1, windowMs, minTimeMs: windowMs };
}

export class SendWindow {
  /** The last `capacity` send times, oldest first. */
  private readonly sends: number[] = [];

  constructor(readonly shape: RateShape) {}

  /** How long to wait before a send at `now` keeps the window; 0 if it may go now. */
  delayMs(now: number): number {
    if (this.sends.length < this.shape.capacity) return 0;
    const oldest = this.sends[0] ?? Number.NEGATIVE_INFINITY;
    return Math.max(0, oldest + this.shape.windowMs - now);
  }

  record(now: number): void {
    this.sends.push(now);
    if (this.sends.length > this.shape.capacity) this.sends.shift();
  }
}
