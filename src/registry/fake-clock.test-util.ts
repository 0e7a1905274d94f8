// A clock for tests: time moves only when a sleeper is waiting and nothing else can run.
import type { Clock } from "./clock.ts";

export class FakeClock implements Clock {
  private t: number;
  private sleepers: { at: number; resolve: () => void }[] = [];
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
