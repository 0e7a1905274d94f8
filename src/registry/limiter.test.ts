// The limiter's own decisions (the send window, the pause gate) read time from the injected
// clock, so they are judged here on a fake one: a send's time is the clock's time when it went
// out. bottleneck still spaces and caps jobs on real timers; the real-time parts below only ever
// assert bounds that a slow machine cannot break (a late timer only spreads jobs further apart).
import { afterEach, describe, expect, test } from "bun:test";
import type { Clock } from "./clock.ts";
import { FakeClock, ManualClock, until } from "./fake-clock.test-util.ts";
import { PauseGate } from "./gate.ts";
import { HostLimiter, type LimiterOptions } from "./limiter.ts";
import { withRequestPriority } from "./priority.ts";
import type { HttpRequest, HttpResponse, RoundTrip } from "./types.ts";

// bottleneck's real timers are slow on a loaded machine; nothing here is judged by how slow.
const realTimeoutMs = 30_000;

const limiters: HostLimiter[] = [];
afterEach(() => {
  for (const l of limiters.splice(0)) l.close();
});

function make(clock: Clock, overrides: Partial<LimiterOptions> = {}): { limiter: HostLimiter; gate: PauseGate } {
  const gate = new PauseGate({ clock, backoffBaseMs: 300, backoffMaxMs: 1000 });
  const limiter = new HostLimiter({
    rateFor: () => 1000,
    concurrencyFor: () => 8,
    rateMarginMs: 20,
    maxTotalConcurrency: 240,
    maxPauseMs: 60_000,
    attemptDeadlineMs: 60_000,
    gate,
    clock,
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

interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Real ms the answer takes, so that attempts overlap (only for the concurrency cap). */
  holdMs?: number;
}

/** An inner layer that records when (on `clock`) each attempt went out and answers from `answer`. */
function recorder(clock: Clock, answer: (host: string, n: number) => Answer) {
  const sent: Sent[] = [];
  let inFlight = 0;
  let peakInFlight = 0;
  const counts = new Map<string, number>();
  const inner: RoundTrip = async (r): Promise<HttpResponse> => {
    const host = r.url.host;
    const n = (counts.get(host) ?? 0) + 1;
    counts.set(host, n);
    sent.push({ host, at: clock.now() });
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const a = answer(host, n);
    if (a.holdMs !== undefined) await new Promise((resolve) => setTimeout(resolve, a.holdMs));
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
  test("no 1 s window of the clock holds more sends than the host's rate", async () => {
    // FakeClock: the window's waits move time at once, so only the window spaces sends on it
    // (bottleneck's real-time spacing does not show); a window that let a burst through fails.
    const clock = new FakeClock();
    const { limiter } = make(clock, { rateFor: (h) => (h.startsWith("slow") ? 10 : 1000), concurrencyFor: () => 3 });
    const r = recorder(clock, () => ({ status: 200 }));
    const send = limiter.layer(r.inner);
    await Promise.all(Array.from({ length: 15 }, () => send(req("slow:1"))));
    const times = r.sent.map((s) => s.at);
    expect(times.length).toBe(15);
    expect(peakPerWindow(times, 1000)).toBe(10);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(1020);
  }, realTimeoutMs);

  test("concurrency is capped", async () => {
    // Real time: a loaded machine can only lower the overlap, never raise it past the cap.
    const clock = new FakeClock();
    const { limiter } = make(clock, { concurrencyFor: () => 3 });
    const r = recorder(clock, () => ({ status: 200, holdMs: 30 }));
    const send = limiter.layer(r.inner);
    await Promise.all(Array.from({ length: 12 }, () => send(req("c:1"))));
    expect(r.sent.length).toBe(12);
    expect(r.peak()).toBeLessThanOrEqual(3);
  }, realTimeoutMs);

  test("a 429 with Retry-After pauses that host only; the other host goes on", async () => {
    const clock = new ManualClock();
    const { limiter, gate } = make(clock);
    const pausedAt = clock.now();
    const r = recorder(clock, (host, n) => (host === "a:1" && n === 1 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }));
    const send = limiter.layer(r.inner);
    const first = await send(req("a:1"));
    expect(first.status).toBe(429);
    expect(gate.remainingMs("a:1")).toBe(1000);
    const a = send(req("a:1"));
    // b is served in full while a waits and time stands still.
    const b = await Promise.all(Array.from({ length: 5 }, () => send(req("b:1"))));
    expect(b.map((x) => x.status)).toEqual([200, 200, 200, 200, 200]);
    await until(() => clock.waiting === 1);
    expect(r.sent.filter((s) => s.host === "a:1").length).toBe(1);
    clock.advance(1000);
    expect((await a).status).toBe(200);
    expect(r.sent.filter((s) => s.host === "a:1")[1]?.at).toBe(pausedAt + 1000);
  }, realTimeoutMs);

  test("queued jobs do not go out while the host is paused behind them", async () => {
    const clock = new ManualClock();
    const { limiter } = make(clock, { concurrencyFor: () => 1 });
    const pausedAt = clock.now();
    const r = recorder(clock, (_h, n) => (n === 1 ? { status: 503, headers: { "retry-after": "1" }, holdMs: 20 } : { status: 200 }));
    const send = limiter.layer(r.inner);
    const out = Promise.all([send(req("a:1")), send(req("a:1")), send(req("a:1"))]);
    // The two queued behind the 503 are back at the gate, waiting on the clock.
    await until(() => clock.waiting === 2);
    expect(r.sent.length).toBe(1);
    clock.advance(1000);
    expect((await out).map((x) => x.status)).toEqual([503, 200, 200]);
    for (const s of r.sent.slice(1)) expect(s.at).toBe(pausedAt + 1000);
  }, realTimeoutMs);

  test("bare 429s back off per host; a pause longer than allowed fails fast as unavailable", async () => {
    const clock = new ManualClock();
    const { limiter, gate } = make(clock, { maxPauseMs: 5000 });
    const r = recorder(clock, (host) => (host === "long:1" ? { status: 429, headers: { "retry-after": "3600" } } : { status: 429 }));
    const send = limiter.layer(r.inner);
    await send(req("bare:1"));
    expect(gate.remainingMs("bare:1")).toBe(300);
    await send(req("long:1"));
    await expect(send(req("long:1"))).rejects.toThrow(/long:1: GET: host asks to wait 3600 s \(429 with Retry-After: 3600\)/);
    expect(r.sent.filter((s) => s.host === "long:1").length).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  test("RateLimit fields saying the budget is spent pause the host until the reset", async () => {
    const clock = new FakeClock();
    const { limiter, gate } = make(clock);
    const r = recorder(clock, (_h, n) => (n === 1 ? { status: 200, headers: { "ratelimit-remaining": "0", "ratelimit-reset": "1" } } : { status: 200, headers: { "ratelimit-remaining": "5", "ratelimit-reset": "1" } }));
    const send = limiter.layer(r.inner);
    await send(req("rl:1"));
    expect(gate.remainingMs("rl:1")).toBe(1000);
    await send(req("rl:1"));
    expect(clock.slept).toEqual([1000]);
    expect((r.sent[1]?.at ?? 0) - (r.sent[0]?.at ?? 0)).toBe(1000);
    expect(gate.remainingMs("rl:1")).toBe(0);
  });

  test("a freed slot goes to the waiting request of lowest priority, then to the earliest", async () => {
    // The engine fills a host's slots with later work before the first subject's next read is
    // asked for; that read must take the next send, not the one after every request queued before it.
    const { limiter } = make(new FakeClock(), { concurrencyFor: () => 1 });
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const order: string[] = [];
    const send = limiter.layer(async (r): Promise<HttpResponse> => {
      order.push(r.url.pathname);
      if (order.length === 1) await held;
      return { status: 200, headers: new Headers(), body: new Uint8Array(0), url: r.url };
    });
    const at = (path: string): HttpRequest => ({ method: "GET", url: new URL(`http://p:1${path}`), headers: new Headers() });
    const first = send(at("/first"));
    await until(() => order.length === 1);
    const waiting = [
      withRequestPriority(5, () => send(at("/b1"))),
      withRequestPriority(5, () => send(at("/b2"))),
      send(at("/none")),
      withRequestPriority(1, () => send(at("/c"))),
      withRequestPriority(5, () => send(at("/b3"))),
    ];
    // Every request above is waiting for the one slot (getting there takes no timer).
    await new Promise((resolve) => setTimeout(resolve, 0));
    release();
    await Promise.all([first, ...waiting]);
    expect(order).toEqual(["/first", "/c", "/b1", "/b2", "/b3", "/none"]);
  }, realTimeoutMs);

  test("the sum of host concurrencies is capped", () => {
    const { limiter } = make(new FakeClock(), { concurrencyFor: () => 100, maxTotalConcurrency: 250 });
    expect([limiter.concurrencyOf("a:1"), limiter.concurrencyOf("b:1"), limiter.concurrencyOf("c:1"), limiter.concurrencyOf("d:1")]).toEqual([100, 100, 50, 1]);
    expect(limiter.concurrencyOf("A:1")).toBe(100);
  });
});
