import { Exit } from "./exit.ts";
import type { RunContext } from "./verb.ts";

export function notImplemented(verb: string) {
  return async (_args: unknown, ctx: RunContext): Promise<number> => {
    ctx.err(`sigmirror: ${verb}: not implemented yet\n`);
    return Exit.usage;
  };
}
