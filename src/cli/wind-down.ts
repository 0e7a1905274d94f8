// How a run ends when it is told to: a signal (SIGINT/SIGTERM) or its deadline (--max-duration D).
// From then on nothing new starts; in-flight requests get a while to finish, then are aborted, and
// the rest of the wind-down is left for the ledger commit, the summary, the report, JUnit and the
// --ledger-ref push.

/**
 * After SIGINT/SIGTERM, in-flight work gets this long before its requests are aborted: well under
 * Prow's 2-minute grace period.
 */
export const interruptGraceMs = 20_000;

/** `--wind-down` default and cap: the run ends by D + W. */
export const defaultWindDownMs = 30_000;
export const maxWindDownMs = 60_000;

/** Of the wind-down, what finishing (commit, report, push) keeps for itself; in-flight requests get the rest. */
export function finishReserveMs(windDownMs: number): number {
  return Math.min(15_000, Math.floor(windDownMs / 2));
}

export interface WindDown {
  /** Aborts the run's requests: `grace` after a signal, or at D + W - reserve. */
  readonly requests: AbortSignal;
  /** When everything must be done (D + W), on the run's clock; undefined without a deadline. */
  readonly finishBy: number | undefined;
  dispose(): void;
}

/**
 * `deadline` on the run's clock (`now`). Timers are real time: the test clock's offset is
 * constant, so a difference on it is a difference in real time.
 */
export function windDown(signal: AbortSignal, now: () => number, deadline: number | undefined, windDownMs: number): WindDown {
  const controller = new AbortController();
  const timers: ReturnType<typeof setTimeout>[] = [];
  const abortIn = (ms: number, reason: string) => timers.push(setTimeout(() => controller.abort(new Error(reason)), Math.max(0, ms)));
  const onSignal = () => abortIn(interruptGraceMs, `interrupted: ${String(signal.reason)}`);
  if (signal.aborted) onSignal();
  else signal.addEventListener("abort", onSignal, { once: true });
  if (deadline !== undefined) abortIn(deadline + windDownMs - finishReserveMs(windDownMs) - now(), "the deadline's wind-down ran out");
  return {
    requests: controller.signal,
    finishBy: deadline === undefined ? undefined : deadline + windDownMs,
    dispose() {
      signal.removeEventListener("abort", onSignal);
      for (const t of timers) clearTimeout(t);
    },
  };
}
