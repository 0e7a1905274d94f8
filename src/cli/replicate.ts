// `sigmirror replicate` and `sigmirror verify`: manifests -> plan -> registry checks -> copies -> ledger -> report.
import { renameSync, writeFileSync } from "node:fs";
import { Ledger, SUFFIXES, type Suffix } from "../ledger/ledger.ts";
import { LedgerError } from "../ledger/open.ts";
import { parseLedgerRef, type LedgerRef } from "../ledger-store/ref.ts";
import type { Group, Plan } from "../plan/group.ts";
import { RegistryClient } from "../registry/client.ts";
import { RegistryError } from "../registry/error.ts";
import { Engine, type EngineEvent, type ReplicaGroup } from "../replicate/engine.ts";
import { buildReport, summaryLines, type Report } from "../replicate/report.ts";
import { defaultSchedule, type ScheduleOptions } from "../replicate/schedule.ts";
import { isatty } from "node:tty";
import { createLogger, parseLogFormat, type LogFields, type LogFormat, type Logger } from "../log/logger.ts";
import { createProgress } from "../log/progress.ts";
import { junitPath, writeJunit } from "../report/junit.ts";
import { collectGarbage } from "../runtime/gc.ts";
import { userAgent } from "../version.ts";
import { durationOption, integerOption, parseDuration, type ParsedArgs } from "./args.ts";
import { checkCredentialHelpers, runHosts } from "./credential-helpers.ts";
import { Exit, UsageError } from "./exit.ts";
import { loadPlanFromArgs } from "./manifests.ts";
import { prepareOutputs } from "./output-path.ts";
import { StoredLedger } from "./ledger-ref.ts";
import { registryConfigFromArgs } from "./registry-options.ts";
import { testClockOffsetMs } from "./test-clock.ts";
import type { RunContext } from "./verb.ts";

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

/** Test-only: `SIGMIRROR_TEST_CLOCK_OFFSET=30m` runs the clock ahead, to simulate a day of runs in seconds. */
function clock(ctx: RunContext): () => number {
  const text = ctx.env["SIGMIRROR_TEST_CLOCK_OFFSET"];
  if (text === undefined || text === "") return Date.now;
  const offset = parseDuration(text);
  if (offset === undefined) throw new UsageError(`SIGMIRROR_TEST_CLOCK_OFFSET: expected a duration such as 30m (got ${JSON.stringify(text)})`);
  return () => Date.now() + offset;
}

function isHostFailure(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false;
  if (err.kind === "network" || err.kind === "timeout" || err.kind === "unavailable") return true;
  return err.status !== undefined && err.status >= 500;
}

/** Text lines say it all in words; JSON lines carry the fields for log search too. */
function logEvent(log: Logger, e: EngineEvent): void {
  const f = (fields: LogFields): LogFields | undefined => (log.format === "json" ? fields : undefined);
  switch (e.kind) {
    case "copied":
    case "would-copy":
      log.info(`${e.kind === "copied" ? "copied" : "would copy"} ${e.repository}:${e.tag} to ${e.host} (${e.digest})`, f(e));
      return;
    case "replaced":
    case "would-replace":
      log.info(`${e.kind === "replaced" ? "replaced" : "would replace"} ${e.host}/${e.repository}:${e.tag} ${e.from} with ${e.digest}`, f(e));
      return;
    case "conflict":
      log.warn(`conflict: ${e.host}/${e.repository}:${e.tag}: ${e.reason}`, f(e));
      return;
    case "drift":
      log.warn(`drift: ${e.host}/${e.repository}:${e.tag}: ${e.reason}`, f(e));
      return;
    case "failed":
      log.error(`failed: ${e.host}/${e.repository}:${e.tag}: ${e.reason}`, f(e));
      return;
    case "given-up":
      log.error(`giving up on ${e.host} for this run: ${e.reason}`, f({ host: e.host }));
      return;
  }
}

/**
 * With --log-format json every stderr line is a JSON object, also the lines of code that writes
 * plain `sigmirror: ...` text (manifest warnings, ledger notes): those are wrapped here.
 */
function loggingContext(ctx: RunContext, format: LogFormat): { ctx: RunContext; log: Logger } {
  const log = createLogger({ format, write: ctx.err });
  if (format === "text") return { ctx, log };
  const err = (text: string) => {
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const message = line.replace(/^sigmirror: /, "");
      if (/^warning: /.test(message)) log.warn(message.replace(/^warning: /, ""));
      else log.info(message);
    }
  };
  return { ctx: { ...ctx, err }, log };
}

/**
 * After SIGINT/SIGTERM the engine starts nothing new; what is in flight (a copy's remaining
 * requests, a lookup already queued for its host) gets this long to finish before its requests are
 * aborted. Well under Prow's 2-minute grace period.
 */
const interruptGraceMs = 20_000;

/** A signal that follows `signal` `ms` later; dispose() drops the pending timer. */
function afterGrace(signal: AbortSignal, ms: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const start = () => {
    timer = setTimeout(() => controller.abort(signal.reason), ms);
  };
  if (signal.aborted) start();
  else signal.addEventListener("abort", start, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      signal.removeEventListener("abort", start);
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/** The progress line, fed once a second from the engine's tally and the client's counters. */
function showProgress(ctx: RunContext, format: LogFormat, client: RegistryClient, engine: Engine, pairsInScope: number): () => void {
  const progress = createProgress({ tty: isatty(2), write: ctx.err, format });
  let last = new Map(client.stats().map((h) => [h.host, h]));
  let lastAt = Date.now();
  const ticker = setInterval(() => {
    const stats = client.stats();
    const at = Date.now();
    const hostRates: Record<string, number> = {};
    const pausedHosts: string[] = [];
    for (const h of stats) {
      const before = last.get(h.host);
      hostRates[h.host] = Math.round(((h.requests - (before?.requests ?? 0)) * 1000) / Math.max(1, at - lastAt));
      if (h.pausedMs > (before?.pausedMs ?? 0)) pausedHosts.push(h.host);
    }
    last = new Map(stats.map((h) => [h.host, h]));
    lastAt = at;
    const t = engine.tally;
    progress.update({ pairsDone: t.pairsChecked, pairsDue: pairsInScope, copies: t.copied + t.replaced, hostRates, pausedHosts });
  }, 1000);
  ticker.unref?.();
  return () => {
    clearInterval(ticker);
    progress.stop();
  };
}

/** Written beside FILE, then renamed: a reader never sees half a report. */
function writeReport(path: string, report: Report): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(tmp, path);
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
  testClockOffsetMs(ctx.env); // input check: SIGMIRROR_TEST_CLOCK_OFFSET well-formed and at most 365d
  const suffixes = parseSuffixes(args);
  const sched = schedule(args);
  const now = clock(ctx);
  const dryRun = verb === "verify" || args.flag("dry-run");
  const maxOverwrites = integerOption(args, "max-overwrites", 10, 0);
  const maxDurationMs = args.string("max-duration") === undefined ? undefined : durationOption(args, "max-duration", "0s");
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
  prepareOutputs(verb, args, ctx.env); // input check: --report and --junit directories made, writable
  checkCredentialHelpers(verb, registryConfig.credentials, runHosts(groups, ledgerRef)); // input check: helpers on PATH
  collectGarbage();
  const requestsSignal = afterGrace(ctx.signal, interruptGraceMs);
  const client = new RegistryClient({ ...registryConfig, userAgent, signal: requestsSignal.signal });

  let stored: StoredLedger | undefined;
  if (ledgerRef !== undefined) {
    try {
      stored = await StoredLedger.start(client, ledgerRef, ledgerPath, log);
      ledgerPath = stored.path;
    } catch (err) {
      client.close();
      requestsSignal.dispose();
      // The registry holding the ledger cannot be read: nothing is known of what it holds, so this
      // run must not replace it with a cold one.
      ctx.err(`sigmirror: ledger: cannot read ${refText}: ${err instanceof Error ? err.message : String(err)}\n`);
      return Exit.failed;
    }
  }

  let ledger: Ledger;
  try {
    ledger =
      noLedger || ledgerPath === undefined
        ? Ledger.none()
        : dryRun
          ? Ledger.openReadOnly(ledgerPath)
          : Ledger.openForRun(ledgerPath);
  } catch (err) {
    client.close();
    requestsSignal.dispose();
    stored?.dispose();
    if (err instanceof LedgerError) {
      ctx.err(`sigmirror: ${err.message}\n`);
      return Exit.usage;
    }
    throw err;
  }

  const startedAt = now();
  const deadline = maxDurationMs === undefined ? undefined : startedAt + maxDurationMs;
  const stopping = () => ctx.signal.aborted || (deadline !== undefined && Date.now() >= deadline);
  const runId = ledger.startRun(verb, Math.floor(startedAt / 1000));
  const engine = new Engine(client, ledger, {
    verb,
    suffixes,
    schedule: sched,
    dryRun,
    forceOverwrite: args.flag("force-overwrite"),
    maxOverwrites,
    checkUnsigned: args.flag("check-unsigned"),
    stopping,
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
  let report: Report;
  try {
    await engine.run(groups);
    if (engine.complete && !isFiltered(scope) && !dryRun && !noLedger) {
      ledger.prune(engine.live, Math.floor(now() / 1000) - 30 * 86400);
    }
  } finally {
    stopProgress();
    const finishedAt = now();
    const interrupted = ctx.signal.aborted ? (String(ctx.signal.reason).includes("SIGTERM") ? "SIGTERM" : "SIGINT") : undefined;
    const t = engine.tally;
    const bad = t.failures.length > 0 || t.conflicts.length > 0 || t.drift.length > 0;
    const exitCode = interrupted === "SIGTERM" ? Exit.sigterm : interrupted === "SIGINT" ? Exit.sigint : bad ? Exit.failed : Exit.ok;
    report = buildReport({
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
      exitCode,
    });
    ledger.finishRun(runId, Math.floor(finishedAt / 1000), {
      groups: report.groups,
      copied: report.copied,
      replaced: report.replaced,
      failed: report.failed,
      conflicts: report.conflicts,
      requests: Object.fromEntries(report.hosts.map((h) => [h.host, h.requests])),
    });
    if (stored !== undefined) {
      await stored.stop();
      if (!dryRun) {
        // After a signal the run's client aborts its requests soon: the last push gets its own.
        const pushClient = ctx.signal.aborted ? new RegistryClient({ ...registryConfig, userAgent }) : client;
        await stored.push(ledger, pushClient);
        if (pushClient !== client) pushClient.close();
        if (stored.pushFailed && report.exitCode === Exit.ok) report.exitCode = Exit.failed;
      }
    }
    ledger.close();
    client.close();
    requestsSignal.dispose();
    stored?.dispose();
  }
  for (const line of summaryLines(report)) log.info(line);
  const reportPath = args.string("report");
  if (reportPath !== undefined) writeReport(reportPath, report);
  const junit = junitPath(ctx.env, args.string("junit"));
  if (junit !== undefined) writeJunit(junit, report);
  return report.exitCode;
}
