import { describe, expect, test } from "bun:test";
import { PauseGate } from "./gate.ts";
import { FakeClock } from "./fake-clock.test-util.ts";

const tooLong = (ms: number, why: string) => new Error(`too long ${ms} ${why}`);

describe("PauseGate", () => {
  test("a pause holds its host only, and only grows", async () => {
    const clock = new FakeClock();
    const gate = new PauseGate({ clock });
    gate.pause("a", clock.now() + 2000, "Retry-After");
    gate.pause("a", clock.now() + 500, "shorter");
    expect(gate.remainingMs("a")).toBe(2000);
    expect(gate.remainingMs("b")).toBe(0);
    await gate.wait("b", 60_000, tooLong);
    expect(clock.slept).toEqual([]);
    await gate.wait("a", 60_000, tooLong);
    expect(clock.slept).toEqual([2000]);
    expect(gate.remainingMs("a")).toBe(0);
    expect(gate.pausedMs("a")).toBe(2000);
  });
  test("paused time counts overlapping pauses once", () => {
    const clock = new FakeClock();
    const gate = new PauseGate({ clock });
    gate.pause("a", clock.now() + 1000, "x");
    clock.advance(500);
    gate.pause("a", clock.now() + 1000, "y"); // until t+1500: 500 more
    expect(gate.pausedMs("a")).toBe(1500);
  });
  test("backoff without header grows, is capped, and resets on success", () => {
    const clock = new FakeClock();
    const gate = new PauseGate({ clock, backoffBaseMs: 1000, backoffMaxMs: 5000 });
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(gate.backoff("a"));
      clock.advance(10_000);
    }
    expect(seen).toEqual([1000, 2000, 4000, 5000, 5000]);
    gate.success("a");
    expect(gate.backoff("a")).toBe(1000);
  });
  test("a pause longer than the run may wait is refused, not slept", async () => {
    const clock = new FakeClock();
    const gate = new PauseGate({ clock });
    gate.pause("a", clock.now() + 3_600_000, "Retry-After 3600");
    await expect(gate.wait("a", 60_000, tooLong)).rejects.toThrow("too long 3600000 Retry-After 3600");
    expect(clock.slept).toEqual([]);
  });
  test("waiting honours the abort signal", async () => {
    const clock = new FakeClock();
    const gate = new PauseGate({ clock });
    gate.pause("a", clock.now() + 1000, "x");
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await expect(gate.wait("a", 60_000, tooLong, ac.signal)).rejects.toThrow("stop");
  });
});
