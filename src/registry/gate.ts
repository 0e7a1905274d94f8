// The per-host pause: while a host has asked us to wait (Retry-After, a spent RateLimit budget)
// or is backing off after bare 429s, nothing is sent to it; other hosts are not affected.
// It lives here rather than in bottleneck's reservoir (updateSettings breaks reservoir refresh,
// bottleneck #185), and in our own map, which bottleneck Group's idle-limiter cleanup never touches.
import { systemClock, type Clock } from "./clock.ts";

export interface GateOptions {
  readonly clock?: Clock;
  /** First pause after a 429 without any timing header; doubles per further one. */
  readonly backoffBaseMs?: number;
  /** The doubling stops here. */
  readonly backoffMaxMs?: number;
}

interface HostPause {
  until: number;
  /** Bare 429s in a row (reset by any other answer). */
  level: number;
  pausedMs: number;
  reason: string;
}

export const defaultBackoffBaseMs = 1000;
export const defaultBackoffMaxMs = 60_000;

export class PauseGate {
  private readonly hosts = new Map<string, HostPause>();
  private readonly clock: Clock;
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(options: GateOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.baseMs = options.backoffBaseMs ?? defaultBackoffBaseMs;
    this.maxMs = options.backoffMaxMs ?? defaultBackoffMaxMs;
  }

  private state(host: string): HostPause {
    let s = this.hosts.get(host);
    if (s === undefined) {
      s = { until: 0, level: 0, pausedMs: 0, reason: "" };
      this.hosts.set(host, s);
    }
    return s;
  }

  /** Nothing goes to host before `until` (epoch ms); a pause only ever grows. */
  pause(host: string, until: number, reason: string): void {
    const s = this.state(host);
    const now = this.clock.now();
    const from = Math.max(now, s.until);
    if (until <= from) return;
    s.pausedMs += until - from;
    s.until = until;
    s.reason = reason;
  }

  /** A 429 that said nothing about when: pause base * 2^(n-1), capped. Returns the pause in ms. */
  backoff(host: string): number {
    const s = this.state(host);
    s.level++;
    const ms = Math.min(this.maxMs, this.baseMs * 2 ** (s.level - 1));
    this.pause(host, this.clock.now() + ms, `backing off ${ms} ms after ${s.level} 429 answer(s) without Retry-After`);
    return ms;
  }

  /** Any answer other than a 429 ends the backoff's growth. */
  success(host: string): void {
    const s = this.hosts.get(host);
    if (s !== undefined) s.level = 0;
  }

  remainingMs(host: string): number {
    const s = this.hosts.get(host);
    return s === undefined ? 0 : Math.max(0, s.until - this.clock.now());
  }

  reason(host: string): string {
    return this.hosts.get(host)?.reason ?? "";
  }

  pausedMs(host: string): number {
    return this.hosts.get(host)?.pausedMs ?? 0;
  }

  /**
   * Waits until host is open. A pause longer than `maxWaitMs` is not waited out: `onTooLong`
   * builds the error to throw (the host asked for more than the run can give).
   */
  async wait(host: string, maxWaitMs: number, onTooLong: (remainingMs: number, reason: string) => Error, signal?: AbortSignal): Promise<void> {
    for (let rounds = 0; rounds < 10_000; rounds++) {
      const remaining = this.remainingMs(host);
      if (remaining <= 0) return;
      if (remaining > maxWaitMs) throw onTooLong(remaining, this.reason(host));
      await this.clock.sleep(remaining, signal);
    }
  }
}
