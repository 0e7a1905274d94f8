import { parse } from "./args.ts";
import { Exit, InputErrors, UsageError } from "./exit.ts";
import { mainHelp, verbHelp } from "./help.ts";
import type { RunContext, Verb } from "./verb.ts";
import { buildInfo } from "../version.ts";

function usageLine(ctx: RunContext, err: UsageError): number {
  const hint = err.hint === undefined ? "sigmirror --help" : `sigmirror ${err.hint} --help`;
  ctx.err(`sigmirror: ${err.message} (see '${hint}')\n`);
  return Exit.usage;
}

/** Runs one command line; never throws for a user's mistake. */
export async function run(argv: readonly string[], verbs: readonly Verb[], ctx: RunContext): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const topic = first === "help" ? verbs.find((v) => v.name === argv[1]) : undefined;
    ctx.out(topic ? verbHelp(topic) : mainHelp(verbs));
    return first === undefined ? Exit.usage : Exit.ok;
  }
  if (first === "--version" || first === "-V") {
    ctx.out(`sigmirror ${buildInfo.version} (commit ${buildInfo.commit}, built ${buildInfo.date})\n`);
    return Exit.ok;
  }
  const verb = verbs.find((v) => v.name === first);
  if (verb === undefined) {
    const what = first.startsWith("-") ? `unknown flag ${first} before the verb` : `unknown verb ${JSON.stringify(first)}`;
    return usageLine(ctx, new UsageError(`${what}; verbs are ${verbs.map((v) => v.name).join(", ")}`));
  }
  const rest = argv.slice(1);
  if (rest.includes("--help") || rest.includes("-h")) {
    ctx.out(verbHelp(verb));
    return Exit.ok;
  }
  try {
    const args = parse(verb.name, rest, verb.options, verb.allowPositionals === true);
    return await verb.run(args, ctx);
  } catch (err) {
    if (err instanceof UsageError) return usageLine(ctx, err);
    if (err instanceof InputErrors) {
      for (const line of err.lines) ctx.err(`${line}\n`);
      return Exit.usage;
    }
    throw err;
  }
}
