// Manifests from the command line to a plan: shared by plan, replicate and verify.
import { isHost } from "../manifest/grammar.ts";
import { loadManifests } from "../manifest/load.ts";
import { formatProblem } from "../manifest/problem.ts";
import type { Plan } from "../plan/group.ts";
import { planGroups } from "../plan/plan.ts";
import type { ParsedArgs } from "./args.ts";
import { InputErrors, UsageError } from "./exit.ts";
import type { RunContext } from "./verb.ts";

export interface PlanFromArgsOptions {
  /** replicate and verify need a primary: without one nothing can be copied or compared. */
  readonly requirePrimary?: boolean;
}

/**
 * Reads `--thin-manifest-dir`, `--manifest`, `--strict` and `--primary`, prints every warning
 * (one line each, on stderr) and returns the plan. Throws UsageError for a bad flag and
 * InputErrors (exit 2, every bad file one line) for a fatal manifest problem.
 */
export function loadPlanFromArgs(args: ParsedArgs, ctx: RunContext, options: PlanFromArgsOptions = {}): Plan {
  const thinDirs = args.list("thin-manifest-dir");
  const manifests = args.list("manifest");
  if (thinDirs.length === 0 && manifests.length === 0) {
    throw new UsageError(`${args.verb}: no manifests; give --thin-manifest-dir DIR or --manifest FILE`, args.verb);
  }
  const primaries = args.list("primary");
  for (const p of primaries) if (!isHost(p)) throw args.bad("primary", "a host[:port] as written in the manifests", p);
  if (options.requirePrimary === true && primaries.length === 0) {
    throw new UsageError(`${args.verb}: --primary HOST is required (the host where the signer writes)`, args.verb);
  }

  const loaded = loadManifests({ thinDirs, manifests }, { strict: args.flag("strict") });
  if (loaded.errors.length > 0) throw new InputErrors(loaded.errors.map(formatProblem));
  if (loaded.warnings.length > 0) ctx.err(`${loaded.warnings.map(formatProblem).join("\n")}\n`);

  // A mistyped primary would silently make every group "without primary".
  const destinationHosts = new Set(loaded.sources.flatMap((s) => s.destinations.map((d) => d.host)));
  for (const p of primaries) {
    if (!destinationHosts.has(p)) {
      throw args.bad("primary", "a destination host of the manifests", p);
    }
  }
  return planGroups(loaded.sources, primaries, loaded.warnings);
}
