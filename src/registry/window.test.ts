import { describe, expect, test } from "bun:test";
import { rateShape, SendWindow } from "./window.ts";

/** Max sends in any half-open window [t, t + w). */
function peak(times: number[], w: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] ?? 0) - (times[j] ?? 0) >= w) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("rateShape", () => {
  test("whole requests per second plus margin; below 1 req/s one per period", () => {
    expect(rateShape(50, 20)).toEqual({ capacity: 50, windowMs: 1020, minTimeMs: 20.4 });
    expect(rateShape(2.5, 20).capacity).toBe(2);
    expect(rateShape(0.5, 20)).toEqual({ capacity: 1, windowMs: 2020, minTimeMs: 2020 });
  });
});

describe("SendWindow", () => {
  test("a burst is let through up to capacity, then spaced by the window", () => {
    const w = new SendWindow(rateShape(5, 20));
    const sent: number[] = [];
    let now = 0;
    for (let i = 0; i < 23; i++) {
      const d = w.delayMs(now);
      now += d;
      w.record(now);
      sent.push(now);
    }
    expect(sent.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(sent[5]).toBe(1020);
    // Even if every arrival were up to 20 ms late or early relative to its send, no 1 s window sees more than 5.
    expect(peak(sent, 1000 + 20)).toBeLessThanOrEqual(5);
  });
  test("bunched late sends (a busy event loop) are held back", () => {
    const w = new SendWindow(rateShape(10, 20));
    for (let i = 0; i < 10; i++) w.record(i * 102); // evenly spaced, as bottleneck meant
    // the next two timers fire together late: the first may go only once the oldest leaves the window
    expect(w.delayMs(1000)).toBe(20);
    expect(w.delayMs(1020)).toBe(0);
  });
});
