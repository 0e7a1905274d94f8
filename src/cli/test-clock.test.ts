import { describe, expect, test } from "bun:test";
import { UsageError } from "./exit.ts";
import { testClockOffsetMs } from "./test-clock.ts";

describe("SIGMIRROR_TEST_CLOCK_OFFSET", () => {
  const cases: [string | undefined, number | string][] = [
    [undefined, 0],
    ["", 0],
    ["30m", 1_800_000],
    ["365d", 31_536_000_000],
    ["soon", 'SIGMIRROR_TEST_CLOCK_OFFSET: expected a duration such as 30m (got "soon")'],
    ["366d", 'SIGMIRROR_TEST_CLOCK_OFFSET: expected a duration of at most 365d (got "366d")'],
    ["99999999999999999999h", 'SIGMIRROR_TEST_CLOCK_OFFSET: expected a duration of at most 365d (got "99999999999999999999h")'],
  ];
  for (const [text, want] of cases) {
    test(`${JSON.stringify(text)}: ${typeof want === "number" ? `${want} ms` : "refused"}`, () => {
      const env = { SIGMIRROR_TEST_CLOCK_OFFSET: text };
      if (typeof want === "number") expect(testClockOffsetMs(env)).toBe(want);
      else expect(() => testClockOffsetMs(env)).toThrow(new UsageError(want));
    });
  }
});
