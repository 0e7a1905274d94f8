import type { HostStats } from "../registry/index.ts";
import type { HostSummary, PairProblem, RunReport } from "../report/types.ts";
import type { Tally } from "./tally.ts";

/** Per-host transport counters as the registry client keeps them. */
export type TransportStats = Pick<HostStats, "host" | "requests" | "byMethod" | "byStatus" | "retries" | "status429" | "pausedMs" | "bytes" | "tokenRequests">;

export interface ReportInput {
  readonly tool: string;
  readonly verb: "replicate" | "verify";
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly dryRun: boolean;
  readonly groups: number;
  readonly withoutPrimary: number;
  readonly tally: Tally;
  readonly transport: readonly TransportStats[];
  readonly primaries: ReadonlySet<string>;
  readonly interrupted: "SIGINT" | "SIGTERM" | undefined;
  /** What stopped the run before every repository was gone through, if anything did. */
  readonly stoppedBy: "deadline" | "SIGINT" | "SIGTERM" | "error" | undefined;
  readonly repositories: number;
  readonly repositoriesLeft: number;
  /** The first error that ended the run (one line). */
  readonly fatal: string | undefined;
  readonly exitCode: number;
}

export type Report = RunReport & { readonly drift: PairProblem[]; readonly missingOnPrimary: number };

export function buildReport(i: ReportInput): Report {
  const t = i.tally;
  const transport = new Map(i.transport.map((s) => [s.host, s]));
  const hosts = new Set([...t.hosts(), ...transport.keys()]);
  const summaries: HostSummary[] = [...hosts].sort().map((host) => {
    const s = transport.get(host);
    const h = t.host(host);
    return {
      host,
      role: i.primaries.has(host) ? "primary" : h.role,
      requests: s?.requests ?? 0,
      byMethod: s?.byMethod ?? {},
      byStatus: s?.byStatus ?? {},
      retries: s?.retries ?? 0,
      status429: s?.status429 ?? 0,
      pausedMs: s?.pausedMs ?? 0,
      bytes: s?.bytes ?? 0,
      tokenRequests: s?.tokenRequests ?? 0,
      checked: h.checked,
      copied: h.copied,
      replaced: h.replaced,
      alreadyThere: h.alreadyThere,
      failed: h.failed,
      conflicts: h.conflicts,
      notReached: h.notReached,
      referrersChecked: h.referrersChecked,
      referrersCopied: h.referrersCopied,
      referrersThere: h.referrersThere,
      ...(h.givenUp === undefined ? {} : { givenUp: h.givenUp }),
    };
  });
  return {
    tool: i.tool,
    verb: i.verb,
    startedAt: new Date(i.startedAt).toISOString(),
    finishedAt: new Date(i.finishedAt).toISOString(),
    wallMs: i.finishedAt - i.startedAt,
    dryRun: i.dryRun,
    groups: i.groups,
    withoutPrimary: i.withoutPrimary,
    unsigned: t.unsigned,
    missingOnPrimary: t.missingOnPrimary,
    pairsChecked: t.pairsChecked,
    copied: t.copied,
    replaced: t.replaced,
    alreadyThere: t.alreadyThere,
    conflicts: t.conflicts.length,
    failed: t.failures.length,
    notReached: t.notReached,
    referrers: t.referrers,
    ...(i.stoppedBy === undefined ? {} : { stoppedBy: i.stoppedBy }),
    repositories: i.repositories,
    repositoriesLeft: i.repositoriesLeft,
    ...(i.interrupted === undefined ? {} : { interrupted: i.interrupted }),
    ...(i.fatal === undefined ? {} : { fatal: i.fatal }),
    hosts: summaries,
    failures: t.failures,
    conflictList: t.conflicts,
    replacedList: t.replacedList,
    drift: t.drift,
    exitCode: i.exitCode,
  };
}

/** The end-of-run summary for stderr: a few lines a release engineer reads first. */
export function summaryLines(r: Report, maxDuration?: string): string[] {
  // A dry run copies nothing: every count of a write says "would".
  const copied = r.dryRun ? "would copy" : "copied";
  const replaced = r.dryRun ? "would replace" : "replaced";
  const notReached = r.notReached > 0 ? `, not reached ${r.notReached}` : "";
  const lines = [
    `${r.verb}: ${r.groups} groups (${r.withoutPrimary} without primary), ${r.unsigned} unsigned, ${r.missingOnPrimary} not on the primary yet`,
    `${r.verb}: pairs checked ${r.pairsChecked}, ${copied} ${r.copied}, ${replaced} ${r.replaced}, already there ${r.alreadyThere}, conflicts ${r.conflicts}, failed ${r.failed}${notReached}` +
      (r.verb === "verify" ? `, drift ${r.drift.length}` : ""),
  ];
  if (r.referrers.checked + r.referrers.copied > 0) {
    lines.push(`${r.verb}: referrers (OCI 1.1): pairs checked ${r.referrers.checked}, ${copied} ${r.referrers.copied}, already there ${r.referrers.there}`);
  }
  for (const h of r.hosts) {
    const methods = Object.entries(h.byMethod)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([m, n]) => `${m} ${n}`)
      .join(", ");
    const paused = h.pausedMs > 0 ? `, paused ${(h.pausedMs / 1000).toFixed(1)}s` : "";
    const given = h.givenUp === undefined ? "" : `, GIVEN UP: ${h.givenUp}`;
    const unreached = h.notReached > 0 ? `, not reached ${h.notReached}` : "";
    const refs = h.referrersChecked + h.referrersCopied > 0 ? `, referrers ${copied} ${h.referrersCopied} of ${h.referrersChecked} checked` : "";
    lines.push(
      `${r.verb}: ${h.host} (${h.role}): ${h.requests} requests${methods === "" ? "" : ` (${methods})`}, 429s ${h.status429}${paused}, ${copied} ${h.copied}, ${replaced} ${h.replaced}, failed ${h.failed}, conflicts ${h.conflicts}${refs}${unreached}${given}`,
    );
  }
  if (r.stoppedBy === "deadline") {
    lines.push(
      `${r.verb}: the deadline${maxDuration === undefined ? "" : ` (--max-duration ${maxDuration})`} stopped the run: ${r.notReached} lookups not reached, ${r.repositoriesLeft} of ${r.repositories} repositories not started; the next run continues from the ledger`,
    );
  }
  if (r.fatal !== undefined) lines.push(`${r.verb}: stopped by an error: ${r.fatal}`);
  lines.push(`${r.verb}: wall ${(r.wallMs / 1000).toFixed(1)}s${r.interrupted === undefined ? "" : `, interrupted by ${r.interrupted}`}, exit ${r.exitCode}`);
  return lines;
}
