import { Exit } from "./exit.ts";

export interface Interrupts {
  readonly signal: AbortSignal;
  /** 130 or 143 once a signal arrived, else undefined. */
  code(): number | undefined;
}

/**
 * First SIGINT/SIGTERM aborts `signal` so a verb can wind down and commit;
 * a second one exits at once.
 */
export function installInterrupts(exit: (code: number) => never): Interrupts {
  const controller = new AbortController();
  let received: number | undefined;
  const on = (code: number) => () => {
    if (received !== undefined) exit(received);
    received = code;
    controller.abort(new Error(code === Exit.sigint ? "SIGINT" : "SIGTERM"));
  };
  process.on("SIGINT", on(Exit.sigint));
  process.on("SIGTERM", on(Exit.sigterm));
  return { signal: controller.signal, code: () => received };
}
