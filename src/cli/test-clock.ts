// SIGMIRROR_TEST_CLOCK_OFFSET: test-only, runs sigmirror's clock ahead to simulate days of runs in seconds.
import { durationExpected, parseDuration } from "./args.ts";
import { UsageError } from "./exit.ts";

export const testClockVariable = "SIGMIRROR_TEST_CLOCK_OFFSET";

/** The offset in ms (0 when unset or empty); UsageError naming the variable when malformed or over the bound. */
export function testClockOffsetMs(env: Readonly<Record<string, string | undefined>>): number {
  const text = env[testClockVariable];
  if (text === undefined || text === "") return 0;
  const offset = parseDuration(text);
  if (offset === undefined) throw new UsageError(`${testClockVariable}: expected ${durationExpected(text, "30m")} (got ${JSON.stringify(text)})`);
  return offset;
}
