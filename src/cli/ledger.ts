// `sigmirror ledger stats | explain REPOSITORY@DIGEST`: reads the ledger only.
import { existsSync } from "node:fs";
import { familyTag } from "../cosign/tags.ts";
import { explain, ledgerStats } from "../ledger/inspect.ts";
import { Ledger } from "../ledger/ledger.ts";
import { LedgerError } from "../ledger/open.ts";
import type { ParsedArgs } from "./args.ts";
import { Exit, UsageError } from "./exit.ts";
import type { RunContext } from "./verb.ts";

const iso = (s: number | undefined): string => (s === undefined ? "never" : new Date(s * 1000).toISOString());

export async function ledgerCommand(args: ParsedArgs, ctx: RunContext): Promise<number> {
  const [sub, target, ...rest] = args.positionals;
  if (sub !== "stats" && sub !== "explain") {
    throw new UsageError(`ledger: expected a subcommand, stats or explain (got ${JSON.stringify(sub ?? "")})`, "ledger");
  }
  if (rest.length > 0 || (sub === "stats" && target !== undefined)) {
    throw new UsageError(`ledger: unexpected argument ${JSON.stringify(rest[0] ?? target)}`, "ledger");
  }
  const path = args.string("ledger");
  if (path === undefined) throw new UsageError("ledger: --ledger FILE is required", "ledger");
  let ref: { repository: string; digest: string } | undefined;
  if (sub === "explain") {
    const m = /^([^@\s]+)@(sha256:[0-9a-f]{64})$/.exec(target ?? "");
    if (m?.[1] === undefined || m[2] === undefined) {
      throw new UsageError(`ledger explain: expected REPOSITORY@sha256:<64 hex> (got ${JSON.stringify(target ?? "")})`, "ledger");
    }
    ref = { repository: m[1], digest: m[2] };
  }
  // Asked about a ledger, "none there" is an error (a typo, a wrong directory), not an empty
  // answer. Runs (--dry-run, verify) open it the same way but take a missing file as empty.
  if (!existsSync(path)) {
    ctx.err(`sigmirror: ${path}: no such ledger file\n`);
    return Exit.usage;
  }
  let ledger: Ledger;
  try {
    ledger = Ledger.openReadOnly(path);
  } catch (err) {
    if (err instanceof LedgerError) {
      ctx.err(`sigmirror: ${err.message}\n`);
      return Exit.usage;
    }
    throw err;
  }
  try {
    const now = Math.floor(Date.now() / 1000);
    const json = args.string("output") === "json";
    if (ref === undefined) {
      const s = ledgerStats(ledger, now);
      if (json) {
        ctx.out(`${JSON.stringify(s)}\n`);
        return Exit.ok;
      }
      ctx.out(
        [
          `ledger ${path}`,
          `subjects: ${s.subjects.signed} signed, ${s.subjects.unsigned} unsigned, ${s.subjects.missing} not on the primary; ${s.subjectsDueNow} due now`,
          `pairs: ${s.pairs} verified, ${s.pairsDueNow} due now; oldest verification ${iso(s.oldestVerification)}`,
          ...s.hosts.map((h) => `  ${h.host}: ${h.pairs} pairs, ${h.dueNow} due now`),
          `last run: ${s.lastRun === undefined ? "none" : `${s.lastRun.verb} started ${iso(s.lastRun.startedAt)}, finished ${iso(s.lastRun.finishedAt)}`}`,
        ].join("\n") + "\n",
      );
      return Exit.ok;
    }
    const digest = ref.digest;
    // The ledger stores families; the tag a user looks for on a registry is cosign's spelling of them.
    const found = explain(ledger, ref.repository, digest).map((e) => ({ ...e, hosts: e.hosts.map((h) => ({ ...h, tag: familyTag(digest, h.family) })) }));
    if (json) {
      ctx.out(`${JSON.stringify(found)}\n`);
      return Exit.ok;
    }
    if (found.length === 0) {
      ctx.out(`${ref.repository}@${ref.digest}: not in the ledger (it will be checked on the next run)\n`);
      return Exit.ok;
    }
    const lines: string[] = [];
    for (const e of found) {
      lines.push(`${e.key.repository}@${e.key.digest} (primary ${e.key.primary}): ${e.state}, first seen ${iso(e.firstSeen)}`);
      if (e.children !== undefined && e.children.length > 0) lines.push(`  index of ${e.children.length}: ${e.children.join(", ")}`);
      for (const h of e.hosts) {
        lines.push(`  ${h.host} (${h.role}) ${h.tag} ${h.digest ?? "(none)"}: verified ${iso(h.verifiedAt)}, due ${iso(h.dueAt)}`);
      }
      for (const r of e.referrers) {
        lines.push(`  referrer ${r.digest} (${r.artifactType}) of ${r.of}`);
        for (const m of r.mirrors) lines.push(`    ${m.host} (mirror): verified ${iso(m.verifiedAt)}, due ${iso(m.dueAt)}`);
        if (r.mirrors.length === 0) lines.push("    on no mirror yet");
      }
    }
    ctx.out(`${lines.join("\n")}\n`);
    return Exit.ok;
  } finally {
    ledger.close();
  }
}
