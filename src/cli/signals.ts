import { Exit } from "./exit.ts";

export interface Interrupts {
  readonly signal: AbortSignal;
  /** 130 or 143 once a signal arrived, else undefined. */
  code(): number | undefined;
}

/**
 * The first SIGINT/SIGTERM aborts `signal` so a verb can wind down, commit and report.
 * Only the same signal again, a second or more later (an impatient operator), exits at once:
 * Prow's entrypoint sends SIGINT and then SIGTERM straight after, and that must still commit.
 */
export function installInterrupts(exit: (code: number) => never, now: () => number = Date.now): Interrupts {
  const controller = new AbortController();
  let received: { code: number; at: number } | undefined;
  const on = (code: number) => () => {
    if (received !== undefined) {
      if (received.code === code && now() - received.at >= 1000) exit(received.code);
      return;
    }
    received = { code, at: now() };
    controller.abort(new Error(code === Exit.sigint ? "SIGINT" : "SIGTERM"));
  };
  process.on("SIGINT", on(Exit.sigint));
  process.on("SIGTERM", on(Exit.sigterm));
  return { signal: controller.signal, code: () => received?.code };
}
