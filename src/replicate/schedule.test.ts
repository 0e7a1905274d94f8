import { describe, expect, test } from "bun:test";
import { defaultSchedule as o, jitteredDue, pairDueAt, subjectDueAt } from "./schedule.ts";

const H = 3600;

describe("schedule", () => {
  test("jitter only brings a due time earlier, by at most the fraction", () => {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const due = jitteredDue(1000, 24 * H, 0.1, r);
      expect(due).toBeLessThanOrEqual(1000 + 24 * H);
      expect(due).toBeGreaterThanOrEqual(1000 + 24 * H - 0.1 * 24 * H - 60);
    }
    expect(jitteredDue(960, 24 * H, 0.1, 0)).toBe(960 + 24 * H);
    expect(jitteredDue(1000, 24 * H, 0.1, 0)).toBe(960 + 24 * H);
    expect(pairDueAt(0, o, 0.5)).toBe(24 * H - 0.05 * 24 * H);
  });

  test("a young signature is due every run, a settled one after the window", () => {
    expect(subjectDueAt("signed", 0, 100, 100 + H, o, 0)).toBe(100 + H);
    expect(subjectDueAt("signed", 0, 100, 100 + 2 * H, o, 0)).toBe(60 + 2 * H + 24 * H);
  });

  test("unsigned and missing digests back off with their age, capped", () => {
    expect(subjectDueAt("unsigned", 1000, undefined, 1000, o, 0)).toBe(1000);
    expect(subjectDueAt("missing", 0, undefined, 4 * H, o, 0)).toBe(5 * H);
    expect(subjectDueAt("unsigned", 0, undefined, 400 * H, o, 0)).toBe(424 * H);
  });
});
