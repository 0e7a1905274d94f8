import { expect, test } from "bun:test";
import { retryDelayMs } from "./backoff.ts";

test("retry delays double, are capped, and are jittered within [ceiling/2, ceiling]", () => {
  const lo = (n: number) => retryDelayMs(n, { baseMs: 500, maxMs: 4000, random: () => 0 });
  const hi = (n: number) => retryDelayMs(n, { baseMs: 500, maxMs: 4000, random: () => 0.999999 });
  expect([1, 2, 3, 4, 5].map(lo)).toEqual([250, 500, 1000, 2000, 2000]);
  expect(hi(1)).toBeCloseTo(500, 0);
  expect(hi(9)).toBeCloseTo(4000, 0);
  const spread = new Set(Array.from({ length: 20 }, () => retryDelayMs(3, { baseMs: 500, maxMs: 4000 })));
  expect(spread.size).toBeGreaterThan(1);
});
