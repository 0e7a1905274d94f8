import { planFormats, renderJson, renderJsonl, renderText, type PlanFormat } from "../plan/render.ts";
import type { ParsedArgs } from "./args.ts";
import { Exit } from "./exit.ts";
import { loadPlanFromArgs } from "./manifests.ts";
import type { RunContext } from "./verb.ts";

function outputFormat(args: ParsedArgs): PlanFormat {
  const text = args.string("output") ?? "text";
  const format = planFormats.find((f) => f === text);
  if (format === undefined) throw args.bad("output", "text, json or jsonl", text);
  return format;
}

/** `sigmirror plan`: manifests to groups, printed; touches no registry. */
export async function plan(args: ParsedArgs, ctx: RunContext): Promise<number> {
  const format = outputFormat(args);
  const result = loadPlanFromArgs(args, ctx);
  switch (format) {
    case "text":
      ctx.out(renderText(result));
      break;
    case "json":
      ctx.out(renderJson(result));
      break;
    case "jsonl":
      for (const chunk of renderJsonl(result)) ctx.out(chunk);
      break;
  }
  return Exit.ok;
}
