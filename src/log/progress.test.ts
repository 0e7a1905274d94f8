import { describe, expect, test } from "bun:test";
import { createProgress, describeProgress, formatElapsed, type Every, type ProgressState } from "./progress.ts";

/** A clock and timers moved by hand. */
function fakeTime(start = 1_000_000) {
  let t = start;
  const timers: { ms: number; fn: () => void; next: number; live: boolean }[] = [];
  const every: Every = (ms, fn) => {
    const timer = { ms, fn, next: t + ms, live: true };
    timers.push(timer);
    return () => {
      timer.live = false;
    };
  };
  const advance = (ms: number) => {
    const end = t + ms;
    for (;;) {
      const due = timers.filter((x) => x.live && x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (due === undefined) break;
      t = due.next;
      due.next += due.ms;
      due.fn();
    }
    t = end;
  };
  return { now: () => t, every, advance, timers };
}

const state = (over: Partial<ProgressState> = {}): ProgressState => ({
  pairsDone: 10,
  pairsDue: 40,
  copies: 3,
  hostRates: { "b.example": 2, "a.example": 12.5, "idle.example": 0 },
  pausedHosts: [],
  ...over,
});

describe("describeProgress", () => {
  test("pairs, copies, total and per-host rates (busiest first), paused hosts, elapsed", () => {
    expect(describeProgress(state({ pausedHosts: ["c.example"] }), 95_000)).toBe(
      "10/40 pairs | 3 copies | 15 req/s (a.example 13/s, b.example 2.0/s) | paused: c.example | 1m35s",
    );
    expect(describeProgress(state({ copies: 1, hostRates: {} }), 0)).toBe("10/40 pairs | 1 copy | 0.0 req/s | 0s");
    expect(describeProgress(state(), 1000, 1)).toContain("(a.example 13/s, +1 more)");
  });
  test("formatElapsed", () => {
    expect(formatElapsed(59_999)).toBe("59s");
    expect(formatElapsed(3_600_000 + 5 * 60_000)).toBe("1h05m");
  });
});

describe("without a TTY (a Prow log)", () => {
  test("a plain line every interval, nothing in between, nothing before the first state", () => {
    const clock = fakeTime();
    const out: string[] = [];
    const p = createProgress({ tty: false, write: (t) => out.push(t), now: clock.now, every: clock.every });
    clock.advance(30_000);
    expect(out).toEqual([]);
    p.update(state());
    p.update(state({ pairsDone: 11 }));
    expect(out).toEqual([]);
    clock.advance(29_999);
    expect(out).toEqual([]);
    clock.advance(1);
    expect(out).toEqual(["sigmirror: progress: 11/40 pairs | 3 copies | 15 req/s (a.example 13/s, b.example 2.0/s) | 1m00s\n"]);
    clock.advance(60_000);
    expect(out).toHaveLength(3);
    expect(out.every((l) => !l.includes("\r") && !l.includes("\u001b"))).toBe(true);
    p.stop();
    clock.advance(120_000);
    expect(out).toHaveLength(3);
  });

  test("the interval is configurable", () => {
    const clock = fakeTime();
    const out: string[] = [];
    const p = createProgress({ tty: false, intervalMs: 5000, write: (t) => out.push(t), now: clock.now, every: clock.every });
    p.update(state());
    clock.advance(20_000);
    expect(out).toHaveLength(4);
    p.stop();
  });

  test("json: every progress line is one JSON object with the numbers", () => {
    const clock = fakeTime(Date.parse("2026-12-01T00:00:00Z"));
    const out: string[] = [];
    const p = createProgress({ tty: true, format: "json", write: (t) => out.push(t), now: clock.now, every: clock.every });
    p.update(state({ pausedHosts: ["c.example"] }));
    expect(out).toEqual([]); // no live line in json, even on a TTY
    clock.advance(30_000);
    expect(out).toHaveLength(1);
    const o = JSON.parse(out[0] ?? "") as Record<string, unknown>;
    expect(o).toEqual({
      level: "info",
      time: "2026-12-01T00:00:30.000Z",
      message: "progress",
      pairsDone: 10,
      pairsDue: 40,
      copies: 3,
      hostRates: { "b.example": 2, "a.example": 12.5, "idle.example": 0 },
      pausedHosts: ["c.example"],
      elapsedMs: 30_000,
    });
    p.stop();
  });
});

describe("on a TTY", () => {
  test("rewrites one line in place, throttled, and catches up on the timer", () => {
    const clock = fakeTime();
    const out: string[] = [];
    const p = createProgress({ tty: true, throttleMs: 200, write: (t) => out.push(t), now: clock.now, every: clock.every });
    p.update(state({ pairsDone: 1 }));
    expect(out).toHaveLength(1);
    expect(out[0]).toStartWith("\r\u001b[2Ksigmirror: 1/40 pairs");
    expect(out[0]).not.toContain("\n");
    clock.advance(50);
    p.update(state({ pairsDone: 2 }));
    p.update(state({ pairsDone: 3 }));
    expect(out).toHaveLength(1); // throttled
    clock.advance(150); // the timer draws the latest state
    expect(out).toHaveLength(2);
    expect(out[1]).toContain("3/40 pairs");
    clock.advance(200); // nothing new and under a second: no redraw
    expect(out).toHaveLength(2);
    clock.advance(1000); // the clock moves: redraw about once a second
    expect(out.length).toBeGreaterThan(2);
    p.stop();
    expect(out[out.length - 1]).toBe("\r\u001b[2K");
    const n = out.length;
    p.update(state());
    clock.advance(5000);
    p.stop();
    expect(out).toHaveLength(n);
  });

  test("writeAbove clears the line, writes, then redraws it", () => {
    const clock = fakeTime();
    const out: string[] = [];
    const p = createProgress({ tty: true, write: (t) => out.push(t), now: clock.now, every: clock.every });
    p.writeAbove("before any state\n");
    p.update(state());
    p.writeAbove("sigmirror: warning: slow\n");
    expect(out[0]).toBe("before any state\n");
    expect(out[2]).toBe("\r\u001b[2Ksigmirror: warning: slow\n");
    expect(out[3]).toStartWith("\r\u001b[2Ksigmirror: 10/40 pairs");
    p.stop();
  });

  test("the live line fits the terminal", () => {
    const clock = fakeTime();
    const out: string[] = [];
    const many: Record<string, number> = {};
    for (let i = 0; i < 21; i++) many[`europe-west${i}-docker.pkg.dev`] = i + 1;
    const p = createProgress({ tty: true, columns: 80, write: (t) => out.push(t), now: clock.now, every: clock.every });
    p.update(state({ hostRates: many }));
    const visible = (out[0] ?? "").replace("\r\u001b[2K", "");
    expect(visible.length).toBeLessThan(80);
    expect(visible).toEndWith("…");
    p.stop();
  });
});

test("the default timer does not keep the process alive", async () => {
  // A child that starts a progress and never stops it must still exit by itself.
  const code = `import { createProgress } from ${JSON.stringify(new URL("./progress.ts", import.meta.url).pathname)};
    const p = createProgress({ tty: false, intervalMs: 60_000, write: () => {} }); p.update({ pairsDone: 0, pairsDue: 1, copies: 0, hostRates: {}, pausedHosts: [] });`;
  const proc = Bun.spawn([process.execPath, "-e", code], { stdout: "ignore", stderr: "pipe" });
  const killer = setTimeout(() => proc.kill(), 20_000);
  const exit = await proc.exited;
  clearTimeout(killer);
  expect(proc.signalCode).toBeNull();
  expect(exit).toBe(0);
});
