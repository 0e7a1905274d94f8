import { describe, expect, test } from "bun:test";
import { RegistryError } from "./error.ts";
import { FakeClock } from "./fake-clock.test-util.ts";
import { retryLayer, type RetryOptions } from "./retry.ts";
import { StatsStore } from "./stats.ts";
import type { HttpRequest, HttpResponse, RoundTrip } from "./types.ts";

const req = (extra: Partial<HttpRequest> = {}): HttpRequest => ({ method: "GET", url: new URL("http://h:1/v2/"), headers: new Headers(), ...extra });
const res = (status: number, headers: Record<string, string> = {}): HttpResponse => ({ status, headers: new Headers(headers), body: new Uint8Array(0), url: new URL("http://h:1/v2/") });
const reset = () => new RegistryError({ host: "h:1", method: "GET", kind: "network", detail: "ECONNRESET", retryable: true });

function script(steps: (number | "reset" | "tls")[]): { inner: RoundTrip; calls: () => number } {
  let calls = 0;
  const inner: RoundTrip = async () => {
    const step = steps[Math.min(calls, steps.length - 1)];
    calls++;
    if (step === "reset") throw reset();
    if (step === "tls") throw new RegistryError({ host: "h:1", method: "GET", kind: "network", detail: "TLS: bad cert" });
    return res(step ?? 200);
  };
  return { inner, calls: () => calls };
}

function opts(clock: FakeClock, stats = new StatsStore()): RetryOptions {
  return { maxAttempts: 5, baseMs: 100, maxMs: 1000, maxRateLimitWaits: 3, clock, stats, random: () => 0 };
}

describe("retryLayer", () => {
  test("5xx and resets are retried with growing delays until an answer", async () => {
    const clock = new FakeClock();
    const stats = new StatsStore();
    const s = script([503, "reset", 500, 200]);
    const out = await retryLayer(s.inner, opts(clock, stats))(req());
    expect(out.status).toBe(200);
    expect(s.calls()).toBe(4);
    expect(clock.slept).toEqual([50, 100, 200]);
    expect(stats.snapshot(() => 0)[0]?.retries).toBe(3);
  });
  test("attempts are bounded: the last answer or error comes back", async () => {
    const clock = new FakeClock();
    const s = script([502]);
    expect((await retryLayer(s.inner, opts(clock))(req())).status).toBe(502);
    expect(s.calls()).toBe(5);
    const r = script(["reset"]);
    await expect(retryLayer(r.inner, opts(clock))(req())).rejects.toThrow("ECONNRESET");
    expect(r.calls()).toBe(5);
  });
  test("429s use no attempt and no sleep here (the gate holds the host), and are bounded too", async () => {
    const clock = new FakeClock();
    const s = script([429, 429, 500, 429, 200]);
    expect((await retryLayer(s.inner, opts(clock))(req())).status).toBe(200);
    expect(clock.slept).toEqual([50]);
    const t = script([429]);
    expect((await retryLayer(t.inner, opts(clock))(req())).status).toBe(429);
    expect(t.calls()).toBe(4);
  });
  test("a 503 with Retry-After is not slept on top of the host's pause", async () => {
    const clock = new FakeClock();
    let n = 0;
    const inner: RoundTrip = async () => (n++ === 0 ? res(503, { "retry-after": "1" }) : res(200));
    expect((await retryLayer(inner, opts(clock))(req())).status).toBe(200);
    expect(clock.slept).toEqual([]);
  });
  test("client errors, certificate errors and retry:none pass straight back", async () => {
    const clock = new FakeClock();
    for (const [steps, r] of [[[404]], [[401]], [["tls"]], [[503], req({ retry: "none" })]] as const) {
      const s = script([...steps]);
      await retryLayer(s.inner, opts(clock))(r ?? req()).catch(() => undefined);
      expect(s.calls()).toBe(1);
    }
  });
});
