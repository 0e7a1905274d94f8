import { describe, expect, test } from "bun:test";
import { rateLimitResetUntil, retryAfterUntil } from "./retry-after.ts";

const t0 = Date.parse("2026-12-01T10:00:00.300Z");
const h = (o: Record<string, string>) => new Headers(o);

describe("Retry-After", () => {
  test("delay-seconds counts from when the answer arrived", () => {
    expect(retryAfterUntil(h({ "retry-after": "2" }), t0)).toBe(t0 + 2000);
    expect(retryAfterUntil(h({ "retry-after": "0" }), t0)).toBe(t0);
  });
  test("an HTTP-date is waited for exactly (its second boundary)", () => {
    expect(retryAfterUntil(h({ "retry-after": "Tue, 01 Dec 2026 10:00:02 GMT" }), t0)).toBe(Date.parse("2026-12-01T10:00:02Z"));
    // a date in the past means now
    expect(retryAfterUntil(h({ "retry-after": "Tue, 01 Dec 2026 09:00:00 GMT" }), t0)).toBe(t0);
    // converted onto another clock through the wall clock at receipt
    expect(retryAfterUntil(h({ "retry-after": "Tue, 01 Dec 2026 10:00:02 GMT" }), 5000, t0)).toBe(5000 + 1700);
  });
  test("absent or malformed is undefined", () => {
    expect(retryAfterUntil(h({}), t0)).toBeUndefined();
    expect(retryAfterUntil(h({ "retry-after": "soon" }), t0)).toBeUndefined();
    expect(retryAfterUntil(h({ "retry-after": "-1" }), t0)).toBeUndefined();
    expect(retryAfterUntil(h({ "retry-after": "1.5" }), t0)).toBeUndefined();
  });
});

describe("RateLimit fields", () => {
  test("a spent budget with a reset pauses", () => {
    expect(rateLimitResetUntil(h({ "ratelimit-remaining": "0", "ratelimit-reset": "7" }), t0)).toBe(t0 + 7000);
    expect(rateLimitResetUntil(h({ ratelimit: '"default";r=0;t=30' }), t0)).toBe(t0 + 30_000);
    expect(rateLimitResetUntil(h({ ratelimit: "limit=100, remaining=0, reset=5" }), t0)).toBeUndefined();
  });
  test("budget left, or no reset, is nothing", () => {
    expect(rateLimitResetUntil(h({ "ratelimit-remaining": "76;w=21600" }), t0)).toBeUndefined();
    expect(rateLimitResetUntil(h({ "ratelimit-remaining": "3", "ratelimit-reset": "7" }), t0)).toBeUndefined();
    expect(rateLimitResetUntil(h({ "ratelimit-remaining": "0" }), t0)).toBeUndefined();
    expect(rateLimitResetUntil(h({ ratelimit: '"default";r=5;t=30' }), t0)).toBeUndefined();
  });
});
