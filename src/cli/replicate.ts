// `sigmirror replicate` and `sigmirror verify`: manifests -> plan -> registry checks -> copies -> ledger -> report.
import { SUFFIXES, type Suffix } from "../cosign/tags.ts";
import { Ledger } from "../ledger/ledger.ts";
import { LedgerError } from "../ledger/open.ts";
import { parseLedgerRef, type LedgerRef } from "../ledger-store/ref.ts";
import { parseLogFormat } from "../log/logger.ts";
import type { Group, Plan } from "../plan/group.ts";
import { RegistryClient } from "../registry/client.ts";
import { isHostFailure } from "../registry/index.ts";
import { errorLine } from "../replicate/context.ts";
import { Engine, type ReplicaGroup } from "../replicate/engine.ts";
import { buildReport, summaryLines, type Report } from "../replicate/report.ts";
import { parseSelection, type ReferrerSelection } from "../replicate/referrer-selection.ts";
import { defaultSchedule, type ScheduleOptions } from "../replicate/schedule.ts";
import { writeFileAtomic } from "../report/atomic-write.ts";
import { writeJunit } from "../report/junit.ts";
import { collectGarbage } from "../runtime/gc.ts";
import { userAgent } from "../version.ts";
import { durationOption, integerOption, type ParsedArgs } from "./args.ts";
import { checkCredentialHelpers, runHosts } from "./credential-helpers.ts";
import { Exit, UsageError } from "./exit.ts";
import { loadPlanFromArgs } from "./manifests.ts";
import { prepareOutputs } from "./output-path.ts";
import { StoredLedger } from "./ledger-ref.ts";
import { registryConfigFromArgs } from "./registry-options.ts";
import { runClock } from "./run-clock.ts";
import { logEvent, loggingContext, showProgress } from "./run-output.ts";
import type { RunContext } from "./verb.ts";
import { defaultWindDownMs, maxWindDownMs, windDown } from "./wind-down.ts";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

interface Scope {
  readonly onlyHosts: ReadonlySet<string>;
  readonly onlyRepositories: readonly string[];
  readonly onlyDigests: ReadonlySet<string>;
}

function parseSuffixes(args: ParsedArgs): Suffix[] {
  const text = args.string("tag-suffixes") ?? "sig";
  const parts = text.split(",").map((s) => s.trim());
  const out: Suffix[] = [];
  for (const p of parts) {
    const s = SUFFIXES.find((x) => x === p);
    if (s === undefined) throw args.bad("tag-suffixes", `a comma-separated list of ${SUFFIXES.join(", ")}`, text);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

function parseReferrers(args: ParsedArgs): ReferrerSelection {
  const text = args.string("referrers") ?? "default";
  const s = parseSelection(text);
  if (s === undefined) throw args.bad("referrers", "default, all, none, or a comma-separated list of artifact types (media types)", text);
  return s;
}

function parseScope(args: ParsedArgs, plan: Plan): Scope {
  const digests = args.list("only-digest");
  for (const d of digests) if (!DIGEST.test(d)) throw args.bad("only-digest", "sha256: and 64 lowercase hex", d);
  const hosts = args.list("only-host");
  for (const h of hosts) if (!plan.hosts.includes(h)) throw args.bad("only-host", "a host of the manifests", h);
  return { onlyHosts: new Set(hosts), onlyRepositories: args.list("only-repository"), onlyDigests: new Set(digests) };
}

function isFiltered(s: Scope): boolean {
  return s.onlyHosts.size > 0 || s.onlyRepositories.length > 0 || s.onlyDigests.size > 0;
}

/** The groups this run works on: with a primary, within the scope flags. */
export function replicaGroups(groups: readonly Group[], scope: Scope): ReplicaGroup[] {
  const out: ReplicaGroup[] = [];
  for (const g of groups) {
    if (g.primary === undefined) continue;
    if (scope.onlyDigests.size > 0 && !scope.onlyDigests.has(g.digest)) continue;
    if (scope.onlyRepositories.length > 0 && !scope.onlyRepositories.some((p) => g.repository.startsWith(p))) continue;
    const mirrors = scope.onlyHosts.size > 0 ? g.mirrors.filter((m) => scope.onlyHosts.has(m)) : g.mirrors;
    if (mirrors.length === 0) continue;
    out.push({ repository: g.repository, digest: g.digest, primary: g.primary, mirrors });
  }
  return out;
}

function schedule(args: ParsedArgs): ScheduleOptions {
  const reverifyAfterS = durationOption(args, "reverify-after", "24h") / 1000;
  return {
    force: reverifyAfterS === 0,
    reverifyAfterS: reverifyAfterS === 0 ? defaultSchedule.reverifyAfterS : reverifyAfterS,
    settleS: durationOption(args, "settle", "2h") / 1000,
    unsignedRecheckMaxS: durationOption(args, "unsigned-recheck-max", "24h") / 1000,
    jitterFraction: 0.1,
  };
}

/** Written beside FILE, then renamed: a reader never sees half a report. */
function writeReport(path: string, report: Report): void {
  writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
}

export async function replicate(args: ParsedArgs, ctx: RunContext): Promise<number> {
  return run("replicate", args, ctx);
}

export async function verify(args: ParsedArgs, ctx: RunContext): Promise<number> {
  return run("verify", args, ctx);
}

interface Planned {
  readonly groups: ReplicaGroup[];
  readonly withoutPrimary: number;
  readonly primaries: readonly string[];
  readonly scope: Scope;
}

/** Only what the run needs of the plan: the rest (tags, host sets) can be collected before the ledger loads. */
function planRun(args: ParsedArgs, ctx: RunContext): Planned {
  const plan = loadPlanFromArgs(args, ctx, { requirePrimary: true });
  const scope = parseScope(args, plan);
  return { groups: replicaGroups(plan.groups, scope), withoutPrimary: plan.withoutPrimary, primaries: plan.primaries, scope };
}

async function run(verb: "replicate" | "verify", args: ParsedArgs, plainCtx: RunContext): Promise<number> {
  const formatText = args.string("log-format") ?? "text";
  const format = parseLogFormat(formatText);
  if (format === undefined) throw args.bad("log-format", "text or json", formatText);
  const { ctx, log } = loggingContext(plainCtx, format);
  // Everything that can be wrong with the input is found before anything is sent or opened.
  const { groups, withoutPrimary, primaries, scope } = planRun(args, ctx);
  const suffixes = parseSuffixes(args);
  const referrers = parseReferrers(args);
  const sched = schedule(args);
  const now = runClock(ctx.env);
  const dryRun = verb === "verify" || args.flag("dry-run");
  const maxOverwrites = integerOption(args, "max-overwrites", 10, 0);
  const maxDurationText = args.string("max-duration");
  const maxDurationMs = maxDurationText === undefined ? undefined : durationOption(args, "max-duration", "0s");
  const windDownMs = durationOption(args, "wind-down", `${defaultWindDownMs / 1000}s`);
  if (windDownMs > maxWindDownMs) throw args.bad("wind-down", `a duration of at most ${maxWindDownMs / 1000}s`, args.string("wind-down"));
  let ledgerPath = args.string("ledger");
  const noLedger = args.flag("no-ledger");
  const refText = args.string("ledger-ref");
  const ledgerRef: LedgerRef | undefined = refText === undefined ? undefined : parseLedgerRef(refText);
  if (refText !== undefined && ledgerRef === undefined) throw args.bad("ledger-ref", "REGISTRY/REPOSITORY:TAG", refText);
  const pushIntervalMs = durationOption(args, "ledger-push-interval", "10m");
  if (verb === "replicate" && ledgerPath === undefined && ledgerRef === undefined && !noLedger) {
    throw new UsageError("replicate: --ledger FILE is required (or --no-ledger for a stateless run that checks every pair)", verb);
  }
  if ((ledgerPath !== undefined || ledgerRef !== undefined) && noLedger) {
    throw new UsageError(`${verb}: --no-ledger excludes --ledger and --ledger-ref`, verb);
  }
  const registryConfig = registryConfigFromArgs(args, ctx.env);
  const outputs = prepareOutputs(verb, args, ctx.env); // input check: --report and --junit directories made, writable
  checkCredentialHelpers(verb, registryConfig.credentials, runHosts(groups, ledgerRef)); // input check: helpers on PATH
  collectGarbage();
  // The deadline counts from here: the stored ledger's pull is part of the run's time.
  const startedAt = now();
  const deadline = maxDurationMs === undefined ? undefined : startedAt + maxDurationMs;
  const wind = windDown(ctx.signal, now, deadline, windDownMs);
  const client = new RegistryClient({ ...registryConfig, userAgent, signal: wind.requests });

  let stored: StoredLedger | undefined;
  if (ledgerRef !== undefined) {
    try {
      stored = await StoredLedger.start(client, ledgerRef, ledgerPath, log);
      ledgerPath = stored.path;
    } catch (err) {
      client.close();
      wind.dispose();
      // The registry holding the ledger cannot be read: nothing is known of what it holds, so this
      // run must not replace it with a cold one.
      ctx.err(`sigmirror: ledger: cannot read ${refText}: ${errorLine(err)}\n`);
      return Exit.failed;
    }
  }

  let ledger: Ledger | undefined;
  let runId: number;
  try {
    ledger = noLedger || ledgerPath === undefined ? Ledger.none() : dryRun ? Ledger.openReadOnly(ledgerPath) : Ledger.openForRun(ledgerPath);
    // Its first write, before any request: a disk already full is found here (exit 2).
    runId = ledger.startRun(verb, Math.floor(startedAt / 1000));
  } catch (err) {
    ledger?.close();
    client.close();
    wind.dispose();
    stored?.dispose();
    if (err instanceof LedgerError) {
      ctx.err(`sigmirror: ${err.message}\n`);
      return Exit.usage;
    }
    throw err;
  }

  // The ledger's load leaves its rows behind: collected before the run's own garbage piles on.
  collectGarbage();
  const engine = new Engine(client, ledger, {
    afterRepository: (done) => {
      if (done % 64 === 0) collectGarbage(false);
    },
    verb,
    suffixes,
    referrers,
    schedule: sched,
    dryRun,
    forceOverwrite: args.flag("force-overwrite"),
    maxOverwrites,
    checkUnsigned: args.flag("check-unsigned"),
    stopping: () => ctx.signal.aborted,
    aborted: () => wind.requests.aborted,
    ...(deadline === undefined ? {} : { deadline }),
    now,
    random: Math.random,
    // What the client allows the host (its configured concurrency, capped so all hosts stay under Bun's 256).
    hostConcurrency: (host) => client.concurrencyOf(host),
    giveUpAfter: 5,
    repositoryConcurrency: 16,
    flushEvery: 2000,
    isHostFailure,
    onEvent: (e) => logEvent(log, e),
  });
  const stopProgress = showProgress(ctx, format, client, engine, groups.reduce((n, g) => n + g.mirrors.length, 0));
  if (stored !== undefined && !dryRun) stored.every(pushIntervalMs, ledger, client);
  // The first error is the one reported: later ones (a ledger that cannot commit the run row after
  // the disk filled up, say) are consequences.
  let fatal: string | undefined;
  const firstError = (err: unknown) => {
    fatal ??= errorLine(err);
  };
  try {
    await engine.run(groups);
    if (engine.complete && !isFiltered(scope) && !dryRun && !noLedger) {
      ledger.prune(engine.live, Math.floor(now() / 1000) - 30 * 86400);
    }
  } catch (err) {
    firstError(err);
  }
  stopProgress();
  const finishedAt = now();
  const interrupted = ctx.signal.aborted ? (String(ctx.signal.reason).includes("SIGTERM") ? "SIGTERM" : "SIGINT") : undefined;
  const t = engine.tally;
  const bad = fatal !== undefined || t.failures.length > 0 || t.conflicts.length > 0 || t.drift.length > 0;
  const stoppedBy = fatal !== undefined ? "error" : interrupted ?? (engine.stoppedBy === "deadline" ? "deadline" : undefined);
  const report: Report = buildReport({
    tool: userAgent,
    verb,
    startedAt,
    finishedAt,
    dryRun: verb === "replicate" && dryRun,
    groups: groups.length,
    withoutPrimary,
    tally: t,
    transport: client.stats(),
    primaries: new Set(primaries),
    interrupted,
    stoppedBy,
    repositories: engine.progress.repositories,
    repositoriesLeft: engine.progress.left,
    fatal,
    exitCode: interrupted === "SIGTERM" ? Exit.sigterm : interrupted === "SIGINT" ? Exit.sigint : bad ? Exit.failed : Exit.ok,
  });
  try {
    ledger.finishRun(runId, Math.floor(finishedAt / 1000), {
      groups: report.groups,
      copied: report.copied,
      replaced: report.replaced,
      failed: report.failed,
      conflicts: report.conflicts,
      requests: Object.fromEntries(report.hosts.map((h) => [h.host, h.requests])),
    });
  } catch (err) {
    if (fatal === undefined) log.error(`ledger: the run's row was not recorded: ${errorLine(err)}`);
  }
  if (stored !== undefined) {
    await stored.stop();
    if (!dryRun && fatal === undefined) {
      // After a signal or the deadline's abort the run's client is done: the last push gets its
      // own, bounded by what is left of the wind-down.
      const left = wind.finishBy === undefined ? undefined : Math.max(1000, wind.finishBy - now());
      const ownClient = ctx.signal.aborted || wind.requests.aborted || left !== undefined;
      const pushClient = ownClient
        ? new RegistryClient({ ...registryConfig, userAgent, ...(left === undefined ? {} : { signal: AbortSignal.timeout(left) }) })
        : client;
      await stored.push(ledger, pushClient);
      if (pushClient !== client) pushClient.close();
      if (stored.pushFailed && report.exitCode === Exit.ok) report.exitCode = Exit.failed;
    }
  }
  try {
    ledger.close();
  } catch {
    // Housekeeping only: what was committed is on disk; a checkpoint that fails is redone at the next open.
  }
  client.close();
  wind.dispose();
  stored?.dispose();
  if (fatal !== undefined) log.error(fatal);
  for (const line of summaryLines(report, maxDurationText)) log.info(line);
  if (outputs.report !== undefined) writeReport(outputs.report, report);
  if (outputs.junit !== undefined) writeJunit(outputs.junit, report);
  return report.exitCode;
}
