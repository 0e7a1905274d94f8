import { describe, expect, test } from "bun:test";
import { Refreshing } from "./refreshing.ts";

function counter(lifetimeMs: number, clock: { t: number }) {
  let calls = 0;
  return {
    calls: () => calls,
    fetch: async () => {
      calls++;
      return { value: `v${calls}`, expiresAt: clock.t + lifetimeMs };
    },
  };
}

describe("Refreshing", () => {
  test("caches until the margin before expiry, then fetches again", async () => {
    const clock = { t: 1_000_000 };
    const src = counter(60_000, clock);
    const r = new Refreshing(src.fetch, { now: () => clock.t, marginMs: () => 10_000 });
    expect(await r.get()).toBe("v1");
    clock.t += 49_999;
    expect(await r.get()).toBe("v1");
    expect(src.calls()).toBe(1);
    clock.t += 1;
    expect(await r.get()).toBe("v2");
    expect(src.calls()).toBe(2);
  });

  test("concurrent callers share one fetch", async () => {
    const clock = { t: 0 };
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const r = new Refreshing(
      async () => {
        calls++;
        await gate;
        return { value: calls, expiresAt: 1e12 };
      },
      { now: () => clock.t },
    );
    const all = Promise.all(Array.from({ length: 20 }, () => r.get()));
    release();
    expect(await all).toEqual(Array.from({ length: 20 }, () => 1));
    expect(calls).toBe(1);
  });

  test("a failure with nothing valid is thrown to all waiters and not cached", async () => {
    const clock = { t: 0 };
    let calls = 0;
    const r = new Refreshing(
      async (): Promise<{ value: string; expiresAt: number }> => {
        calls++;
        if (calls === 1) throw new Error("down");
        return { value: "ok", expiresAt: 1e12 };
      },
      { now: () => clock.t },
    );
    const results = await Promise.allSettled([r.get(), r.get()]);
    expect(results.map((x) => x.status)).toEqual(["rejected", "rejected"]);
    expect(calls).toBe(1);
    expect(await r.get()).toBe("ok");
    expect(calls).toBe(2);
  });

  test("a failed refresh keeps the still-valid value, and retries after a pause", async () => {
    const clock = { t: 0 };
    let calls = 0;
    const r = new Refreshing(
      async () => {
        calls++;
        if (calls === 2) throw new Error("hiccup");
        return { value: `v${calls}`, expiresAt: clock.t + 100_000 };
      },
      { now: () => clock.t, marginMs: () => 50_000, retryAfterFailureMs: 5_000 },
    );
    expect(await r.get()).toBe("v1");
    clock.t = 60_000; // inside the margin: refresh, which fails
    expect(await r.get()).toBe("v1");
    clock.t = 64_000; // within the pause: no new attempt
    expect(await r.get()).toBe("v1");
    expect(calls).toBe(2);
    clock.t = 65_000;
    expect(await r.get()).toBe("v3");
    clock.t = 300_000;
    expect(await r.get()).toBe("v4");
  });

  test("a failed refresh after expiry throws", async () => {
    const clock = { t: 0 };
    let calls = 0;
    const r = new Refreshing(
      async () => {
        calls++;
        if (calls > 1) throw new Error("gone");
        return { value: "v1", expiresAt: 1000 };
      },
      { now: () => clock.t },
    );
    expect(await r.get()).toBe("v1");
    clock.t = 1000;
    await expect(r.get()).rejects.toThrow("gone");
  });

  test("forget drops the value", async () => {
    const clock = { t: 0 };
    const src = counter(1e9, clock);
    const r = new Refreshing(src.fetch, { now: () => clock.t });
    await r.get();
    r.forget();
    expect(await r.get()).toBe("v2");
  });
});
