/** The exit codes every verb uses; documented in `--help` and the README. */
export const Exit = {
  /** Done, nothing wrong. */
  ok: 0,
  /** The run finished but something failed, or drift was found. */
  failed: 1,
  /** Usage or input error: nothing was sent to any registry. */
  usage: 2,
  /** Interrupted by SIGINT. */
  sigint: 130,
  /** Interrupted by SIGTERM. */
  sigterm: 143,
} as const;

export type ExitCode = (typeof Exit)[keyof typeof Exit];

/**
 * A mistake of the user's (flags, input files): printed as one line, no stack, exit 2.
 * `hint` is appended when the user can fix it by reading `--help`.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly hint: string | undefined = undefined,
  ) {
    super(message);
  }
}

/** Several independent input errors, each already formatted as its own line. */
export class InputErrors extends Error {
  override readonly name = "InputErrors";
  constructor(readonly lines: readonly string[]) {
    super(lines.join("\n"));
  }
}
