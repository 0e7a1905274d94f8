// Clocks for tests. FakeClock: a sleep moves time forward at once, so tests see the waits, not
// the wall clock. ManualClock (below): time moves only when the test says so.
import type { Clock } from "./clock.ts";

export class FakeClock implements Clock {
  protected t: number;
  protected sleepers: { at: number; resolve: () => void }[] = [];
  readonly slept: number[] = [];
  constructor(start = Date.parse("2026-12-01T10:00:00Z")) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.at <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.resolve();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.slept.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Sleeping moves time forward at once: tests see the waits, not the wall clock.
    this.t += Math.max(0, ms);
    return Promise.resolve();
  }
}

/**
 * A clock whose sleepers wait until the test calls advance(): "while a host is paused, X happens"
 * is then a fact about the order of events, not about how fast a loaded machine runs.
 */
export class ManualClock extends FakeClock {
  /** Sleepers waiting for time to move. */
  get waiting(): number {
    return this.sleepers.length;
  }
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.slept.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper = { at: this.t + ms, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        "abort",
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
}

/**
 * Resolves once `ready()` holds, checking between real event-loop turns (bottleneck schedules on
 * real timers). No deadline of its own: a slow machine only makes it wait longer; the test's
 * timeout is the bound.
 */
export async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 1));
}
