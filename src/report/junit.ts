// The run as JUnit XML, for Prow's artifacts and testgrid: one test case per mirror host (named by
// the host, so a testgrid row shows which region is behind) and one for the primary's reads.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { redact } from "../redact/redact.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import type { HostSummary, PairProblem, RunReport } from "./types.ts";

export interface JunitOptions {
  /** Pairs listed per failing case before "and N more" (default 50). */
  maxListed?: number;
}

export const junitFileName = "junit_sigmirror.xml";
export const defaultMaxListed = 50;

/** `--junit FILE` wins; else `$ARTIFACTS/junit_sigmirror.xml` when ARTIFACTS is set (Prow); else none. */
export function junitPath(env: Readonly<Record<string, string | undefined>>, flag?: string): string | undefined {
  if (flag !== undefined && flag !== "") return flag;
  const artifacts = env["ARTIFACTS"];
  return artifacts !== undefined && artifacts !== "" ? join(artifacts, junitFileName) : undefined;
}

// XML 1.0 allows tab, LF, CR and these ranges; anything else (NUL, other C0 controls, lone
// surrogates, U+FFFE/U+FFFF) makes the whole file unreadable, so it is dropped.
const illegalXml = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function clean(text: string): string {
  return redact(text).replace(illegalXml, "");
}

export function escapeText(text: string): string {
  return clean(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function escapeAttribute(text: string): string {
  return clean(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    // Attribute-value normalisation would turn these into spaces.
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}

function attrs(pairs: Record<string, string | number>): string {
  return Object.entries(pairs)
    .map(([k, v]) => ` ${k}="${escapeAttribute(String(v))}"`)
    .join("");
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

interface Case {
  name: string;
  summary: HostSummary | undefined;
  failures: PairProblem[];
  conflicts: PairProblem[];
}

function emptySummary(host: string, role: HostSummary["role"]): HostSummary {
  return {
    host,
    role,
    requests: 0,
    byMethod: {},
    byStatus: {},
    retries: 0,
    status429: 0,
    pausedMs: 0,
    bytes: 0,
    tokenRequests: 0,
    checked: 0,
    copied: 0,
    replaced: 0,
    alreadyThere: 0,
    failed: 0,
    conflicts: 0,
    notReached: 0,
    referrersChecked: 0,
    referrersCopied: 0,
    referrersThere: 0,
  };
}

/** Cases in a stable order: the primary's reads first, then mirrors by host name. */
function cases(report: RunReport): Case[] {
  const byKey = new Map<string, Case>();
  const key = (host: string, role: HostSummary["role"]) => `${role} ${host}`;
  for (const h of report.hosts) {
    byKey.set(key(h.host, h.role), {
      name: h.role === "primary" ? `primary reads ${h.host}` : h.host,
      summary: h,
      failures: [],
      conflicts: [],
    });
  }
  // A problem is the mirror's when the host is a mirror (copies are writes to mirrors), else the primary's.
  const caseFor = (host: string): Case => {
    const found = byKey.get(key(host, "mirror")) ?? byKey.get(key(host, "primary"));
    if (found !== undefined) return found;
    const made: Case = { name: host, summary: undefined, failures: [], conflicts: [] };
    byKey.set(key(host, "mirror"), made);
    return made;
  };
  for (const p of report.failures) caseFor(p.host).failures.push(p);
  for (const p of report.conflictList) caseFor(p.host).conflicts.push(p);
  const rank = (k: string) => (k.startsWith("primary ") ? 0 : 1);
  return [...byKey.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([, c]) => c);
}

function pairLine(kind: string, p: PairProblem): string {
  const at = p.digest === undefined ? "" : ` (${p.digest})`;
  return `${kind}: ${p.repository}:${p.tag}${at}: ${p.reason}`;
}

function countsLine(h: HostSummary): string {
  const methods = Object.entries(h.byMethod)
    .map(([m, n]) => `${m} ${n}`)
    .join(", ");
  const statuses = Object.entries(h.byStatus)
    .map(([s, n]) => `${s}: ${n}`)
    .join(", ");
  return [
    `checked ${h.checked}, copied ${h.copied}, replaced ${h.replaced}, already there ${h.alreadyThere}, failed ${h.failed}, conflicts ${h.conflicts}` +
      (h.notReached > 0 ? `, not reached ${h.notReached}` : ""),
    `referrers: checked ${h.referrersChecked}, copied ${h.referrersCopied}, already there ${h.referrersThere}`,
    `requests ${h.requests}${methods === "" ? "" : ` (${methods})`}${statuses === "" ? "" : `; statuses ${statuses}`}`,
    `retries ${h.retries}, 429s ${h.status429}, paused ${seconds(h.pausedMs)}s, token requests ${h.tokenRequests}, bytes ${h.bytes}`,
    ...(h.givenUp === undefined ? [] : [`given up: ${h.givenUp}`]),
  ].join("\n");
}

function renderCase(c: Case, wallMs: number, maxListed: number): { xml: string; failed: boolean } {
  const h = c.summary ?? emptySummary(c.name, "mirror");
  const failedCount = Math.max(h.failed, c.failures.length);
  const conflictCount = Math.max(h.conflicts, c.conflicts.length);
  const failed = failedCount > 0 || conflictCount > 0 || h.givenUp !== undefined;
  // Hosts are worked in parallel for the whole run, so each case takes the run's wall time.
  const open = `    <testcase${attrs({ classname: "sigmirror", name: c.name, time: seconds(wallMs) })}>`;
  const parts = [open];
  if (failed) {
    const what = [
      ...(failedCount > 0 ? [plural(failedCount, "pair failed", "pairs failed")] : []),
      ...(conflictCount > 0 ? [plural(conflictCount, "conflict", "conflicts")] : []),
      ...(h.givenUp !== undefined ? [`host given up: ${h.givenUp}`] : []),
    ].join(", ");
    const type = h.givenUp !== undefined ? "host-given-up" : failedCount > 0 ? "pairs-failed" : "conflicts";
    const listed = [...c.failures.map((p) => pairLine("failed", p)), ...c.conflicts.map((p) => pairLine("conflict", p))];
    const shown = listed.slice(0, maxListed);
    const rest = Math.max(listed.length, failedCount + conflictCount) - shown.length;
    if (rest > 0) shown.push(`and ${rest} more`);
    parts.push(`      <failure${attrs({ message: what, type })}>${escapeText(shown.join("\n"))}</failure>`);
  }
  parts.push(`      <system-out>${escapeText(countsLine(h))}</system-out>`);
  parts.push("    </testcase>");
  return { xml: parts.join("\n"), failed };
}

/** How the run ended, when it did not go through everything: a signal or an error fails it; the deadline does not. */
function runCase(report: RunReport): { xml: string; failed: boolean } | undefined {
  const open = `    <testcase${attrs({ classname: "sigmirror", name: "run completed", time: seconds(report.wallMs) })}>`;
  const left = `${plural(report.notReached, "lookup", "lookups")} not reached, ${report.repositoriesLeft} of ${report.repositories} repositories not started`;
  if (report.fatal !== undefined) {
    const failure = `      <failure${attrs({ message: report.fatal, type: "error" })}>${escapeText(`stopped by an error: ${report.fatal}; ${left}`)}</failure>`;
    return { xml: [open, failure, "    </testcase>"].join("\n"), failed: true };
  }
  if (report.interrupted !== undefined) {
    const failure = `      <failure${attrs({ message: `interrupted by ${report.interrupted}`, type: "interrupted" })}>${escapeText(
      `stopped by ${report.interrupted}: pairs not reached yet were not checked`,
    )}</failure>`;
    return { xml: [open, failure, "    </testcase>"].join("\n"), failed: true };
  }
  if (report.stoppedBy === "deadline") {
    const out = `      <system-out>${escapeText(`stopped by the deadline (--max-duration): ${left}; the next run continues`)}</system-out>`;
    return { xml: [open, out, "    </testcase>"].join("\n"), failed: false };
  }
  return undefined;
}

export function renderJunit(report: RunReport, opts: JunitOptions = {}): string {
  const maxListed = Math.max(0, Math.floor(opts.maxListed ?? defaultMaxListed));
  const rendered = cases(report).map((c) => renderCase(c, report.wallMs, maxListed));
  const run = runCase(report);
  if (run !== undefined) rendered.push(run);
  const failures = rendered.filter((r) => r.failed).length;
  const totals = { tests: rendered.length, failures, errors: 0, time: seconds(report.wallMs) };
  const properties: Record<string, string | number> = {
    tool: report.tool,
    verb: report.verb,
    dryRun: String(report.dryRun),
    exitCode: report.exitCode,
    groups: report.groups,
    withoutPrimary: report.withoutPrimary,
    unsigned: report.unsigned,
    pairsChecked: report.pairsChecked,
    copied: report.copied,
    replaced: report.replaced,
    alreadyThere: report.alreadyThere,
    conflicts: report.conflicts,
    failed: report.failed,
    notReached: report.notReached,
    ...(report.stoppedBy === undefined ? {} : { stoppedBy: report.stoppedBy }),
    ...(report.interrupted === undefined ? {} : { interrupted: report.interrupted }),
  };
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: "sigmirror", ...totals })}>`,
    `  <testsuite${attrs({ name: "sigmirror", ...totals, skipped: 0, timestamp: report.startedAt })}>`,
    "    <properties>",
    ...Object.entries(properties).map(([name, value]) => `      <property${attrs({ name, value })}/>`),
    "    </properties>",
    ...rendered.map((r) => r.xml),
    "  </testsuite>",
    "</testsuites>",
    "",
  ];
  return lines.join("\n");
}

/** Writes the file whole or not at all (a reader never sees half a file); creates its directory. */
export function writeJunit(path: string, report: RunReport, opts: JunitOptions = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, renderJunit(report, opts));
}
