// The run's one clock: the schedule, the deadline and the ledger's flush cadence all read it.
import { parseDuration } from "./args.ts";
import { UsageError } from "./exit.ts";

/**
 * Test-only: `SIGMIRROR_TEST_CLOCK_OFFSET=30m` runs the clock ahead by a duration, so tests and
 * benchmarks can simulate days of runs in seconds. Never set it in production. Read here and
 * nowhere else.
 */
export function runClock(env: Readonly<Record<string, string | undefined>>): () => number {
  const text = env["SIGMIRROR_TEST_CLOCK_OFFSET"];
  if (text === undefined || text === "") return Date.now;
  const offset = parseDuration(text);
  if (offset === undefined) throw new UsageError(`SIGMIRROR_TEST_CLOCK_OFFSET: expected a duration such as 30m (got ${JSON.stringify(text)})`);
  return () => Date.now() + offset;
}
