import { afterEach, describe, expect, test } from "bun:test";
import { systemClock } from "./clock.ts";
import { PauseGate } from "./gate.ts";
import { HostLimiter, type LimiterOptions } from "./limiter.ts";
import type { HttpRequest, HttpResponse, RoundTrip } from "./types.ts";

const limiters: HostLimiter[] = [];
afterEach(() => {
  for (const l of limiters.splice(0)) l.close();
});

function make(overrides: Partial<LimiterOptions> = {}): { limiter: HostLimiter; gate: PauseGate } {
  const gate = new PauseGate({ backoffBaseMs: 300, backoffMaxMs: 1000 });
  const limiter = new HostLimiter({
    rateFor: () => 1000,
    concurrencyFor: () => 8,
    rateMarginMs: 20,
    maxTotalConcurrency: 240,
    maxPauseMs: 60_000,
    attemptDeadlineMs: 60_000,
    gate,
    clock: systemClock,
    ...overrides,
  });
  limiters.push(limiter);
  return { limiter, gate };
}

const req = (host: string): HttpRequest => ({ method: "GET", url: new URL(`http://${host}/v2/`), headers: new Headers() });

interface Sent {
  host: string;
  at: number;
}

/** An inner layer that records when each attempt went out and answers from `answer`. */
function recorder(answer: (host: string, n: number) => { status: number; headers?: Record<string, string>; holdMs?: number }) {
  const sent: Sent[] = [];
  let inFlight = 0;
  let peakInFlight = 0;
  const counts = new Map<string, number>();
  const inner: RoundTrip = async (r): Promise<HttpResponse> => {
    const host = r.url.host;
    const n = (counts.get(host) ?? 0) + 1;
    counts.set(host, n);
    sent.push({ host, at: Date.now() });
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const a = answer(host, n);
    await new Promise((resolve) => setTimeout(resolve, a.holdMs ?? 1));
    inFlight--;
    return { status: a.status, headers: new Headers(a.headers ?? {}), body: new Uint8Array(0), url: r.url };
  };
  return { inner, sent, peak: () => peakInFlight };
}

function peakPerWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while ((t[i] ?? 0) - (t[j] ?? 0) >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("HostLimiter", () => {
  test("no 1 s window holds more sends than the host's rate; concurrency is capped", async () => {
    const { limiter } = make({ rateFor: (h) => (h.startsWith("slow") ? 10 : 1000), concurrencyFor: () => 3 });
    const r = recorder(() => ({ status: 200, holdMs: 15 }));
    const send = limiter.layer(r.inner);
    await Promise.all(Array.from({ length: 25 }, () => send(req("slow:1"))));
    const times = r.sent.map((s) => s.at);
    expect(times.length).toBe(25);
    expect(peakPerWindow(times, 1000)).toBeLessThanOrEqual(10);
    expect(r.peak()).toBeLessThanOrEqual(3);
  });

  test("a 429 with Retry-After pauses that host only; the other host goes on", async () => {
    const { limiter, gate } = make();
    let pausedAt = 0;
    const r = recorder((host, n) => {
      if (host === "a:1" && n === 1) {
        pausedAt = Date.now();
        return { status: 429, headers: { "retry-after": "1" } };
      }
      return { status: 200 };
    });
    const send = limiter.layer(r.inner);
    const first = await send(req("a:1"));
    expect(first.status).toBe(429);
    expect(gate.remainingMs("a:1")).toBeGreaterThan(0);
    const results = await Promise.all([send(req("a:1")), ...Array.from({ length: 5 }, () => send(req("b:1")))]);
    expect(results.map((x) => x.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const a = r.sent.filter((s) => s.host === "a:1");
    const b = r.sent.filter((s) => s.host === "b:1");
    expect(a[1]?.at ?? 0).toBeGreaterThanOrEqual(pausedAt + 1000);
    // b was served while a was paused
    expect(Math.max(...b.map((s) => s.at))).toBeLessThan(pausedAt + 1000);
  });

  test("queued jobs do not go out while the host is paused behind them", async () => {
    const { limiter } = make({ concurrencyFor: () => 1 });
    let pausedAt = 0;
    const r = recorder((_h, n) => {
      if (n === 1) {
        pausedAt = Date.now();
        return { status: 503, headers: { "retry-after": "1" }, holdMs: 20 };
      }
      return { status: 200 };
    });
    const send = limiter.layer(r.inner);
    const out = await Promise.all([send(req("a:1")), send(req("a:1")), send(req("a:1"))]);
    expect(out.map((x) => x.status)).toEqual([503, 200, 200]);
    for (const s of r.sent.slice(1)) expect(s.at).toBeGreaterThanOrEqual(pausedAt + 1000);
  });

  test("bare 429s back off per host; a pause longer than allowed fails fast as unavailable", async () => {
    const { limiter, gate } = make({ maxPauseMs: 5000 });
    const r = recorder((host) => (host === "long:1" ? { status: 429, headers: { "retry-after": "3600" } } : { status: 429 }));
    const send = limiter.layer(r.inner);
    await send(req("bare:1"));
    const first = gate.remainingMs("bare:1");
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(300);
    await send(req("long:1"));
    await expect(send(req("long:1"))).rejects.toThrow(/long:1: GET: host asks to wait 3600 s \(429 with Retry-After: 3600\)/);
    expect(r.sent.filter((s) => s.host === "long:1").length).toBe(1);
  });

  test("RateLimit fields saying the budget is spent pause the host until the reset", async () => {
    const { limiter, gate } = make();
    const r = recorder((_h, n) => (n === 1 ? { status: 200, headers: { "ratelimit-remaining": "0", "ratelimit-reset": "1" } } : { status: 200, headers: { "ratelimit-remaining": "5", "ratelimit-reset": "1" } }));
    const send = limiter.layer(r.inner);
    await send(req("rl:1"));
    expect(gate.remainingMs("rl:1")).toBeGreaterThan(900);
    await send(req("rl:1"));
    expect((r.sent[1]?.at ?? 0) - (r.sent[0]?.at ?? 0)).toBeGreaterThanOrEqual(990);
    expect(gate.remainingMs("rl:1")).toBe(0);
  });

  test("the sum of host concurrencies is capped", () => {
    const { limiter } = make({ concurrencyFor: () => 100, maxTotalConcurrency: 250 });
    expect([limiter.concurrencyOf("a:1"), limiter.concurrencyOf("b:1"), limiter.concurrencyOf("c:1"), limiter.concurrencyOf("d:1")]).toEqual([100, 100, 50, 1]);
    expect(limiter.concurrencyOf("A:1")).toBe(100);
  });
});
