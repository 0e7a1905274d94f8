// The run's one clock: the schedule, the deadline and the ledger's flush cadence all read it.
import { testClockOffsetMs } from "./test-clock.ts";

/**
 * Epoch milliseconds, ahead by the test-only `SIGMIRROR_TEST_CLOCK_OFFSET` when it is set (tests and
 * benchmarks simulate days of runs with it; never set in production). Read here and nowhere else.
 */
export function runClock(env: Readonly<Record<string, string | undefined>>): () => number {
  const offset = testClockOffsetMs(env);
  return offset === 0 ? Date.now : () => Date.now() + offset;
}
