import { run } from "./cli/run.ts";
import { installInterrupts } from "./cli/signals.ts";
import { verbs } from "./cli/verbs.ts";
import { writeFd } from "./cli/output.ts";

const interrupts = installInterrupts((code) => process.exit(code));
let code: number;
try {
  code = await run(process.argv.slice(2), verbs, {
    out: (text) => writeFd(1, text),
    err: (text) => writeFd(2, text),
    env: process.env,
    signal: interrupts.signal,
  });
} catch (err) {
  // A bug, not a user error: one line with the message; the stack only on request.
  const message = err instanceof Error ? err.message : String(err);
  writeFd(2, `sigmirror: internal error: ${message}\n`);
  if (process.env["SIGMIRROR_DEBUG"] === "1" && err instanceof Error) writeFd(2, `${err.stack}\n`);
  code = 1;
}
process.exitCode = interrupts.code() ?? code;
