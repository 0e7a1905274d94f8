// `sigmirror ledger stats` and `ledger explain`: what the ledger believes, read-only.
import { Ledger, type SubjectKey } from "./ledger.ts";

export interface LedgerStats {
  readonly subjects: { readonly signed: number; readonly unsigned: number; readonly missing: number };
  readonly pairs: number;
  readonly pairsDueNow: number;
  readonly subjectsDueNow: number;
  readonly oldestVerification: number | undefined;
  readonly hosts: readonly { readonly host: string; readonly pairs: number; readonly dueNow: number }[];
  readonly lastRun: { readonly verb: string; readonly startedAt: number; readonly finishedAt: number | undefined } | undefined;
}

export function ledgerStats(ledger: Ledger, now: number): LedgerStats {
  const subjects = { signed: 0, unsigned: 0, missing: 0 };
  let pairs = 0;
  let pairsDueNow = 0;
  let subjectsDueNow = 0;
  let oldest: number | undefined;
  const perHost = new Map<string, { pairs: number; dueNow: number }>();
  for (const [, s] of ledger.entries()) {
    subjects[s.state]++;
    if (s.dueAt <= now) subjectsDueNow++;
    for (const p of ledger.pairsOf(s)) {
      pairs++;
      const h = perHost.get(p.mirror) ?? { pairs: 0, dueNow: 0 };
      h.pairs++;
      if (p.dueAt <= now) {
        pairsDueNow++;
        h.dueNow++;
      }
      perHost.set(p.mirror, h);
      if (oldest === undefined || p.verifiedAt < oldest) oldest = p.verifiedAt;
    }
  }
  const row = ledger.database?.prepare("SELECT verb, started_at, finished_at FROM runs ORDER BY id DESC LIMIT 1").get();
  return {
    subjects,
    pairs,
    pairsDueNow,
    subjectsDueNow,
    oldestVerification: oldest,
    hosts: [...perHost].sort(([a], [b]) => a.localeCompare(b)).map(([host, h]) => ({ host, ...h })),
    lastRun:
      row === undefined
        ? undefined
        : {
            verb: String(row["verb"]),
            startedAt: Number(row["started_at"]),
            finishedAt: row["finished_at"] === null ? undefined : Number(row["finished_at"]),
          },
  };
}

export interface ExplainedHost {
  readonly host: string;
  readonly role: "primary" | "mirror";
  readonly tag: string;
  readonly digest: string | undefined;
  readonly verifiedAt: number | undefined;
  readonly dueAt: number | undefined;
}

export interface Explained {
  readonly key: SubjectKey;
  readonly state: string;
  readonly firstSeen: number;
  readonly children: readonly string[] | undefined;
  readonly hosts: readonly ExplainedHost[];
}

/** Every subject of `repository@digest` (one per primary host). */
export function explain(ledger: Ledger, repository: string, digest: string): Explained[] {
  const out: Explained[] = [];
  for (const [key, s] of ledger.entries()) {
    if (key.repository !== repository || key.digest !== digest) continue;
    const hosts: ExplainedHost[] = [];
    const tagOf = (suffix: string) => `${digest.replace(":", "-")}.${suffix}`;
    if (s.tags.size === 0) hosts.push({ host: key.primary, role: "primary", tag: tagOf("sig"), digest: undefined, verifiedAt: s.checkedAt, dueAt: s.dueAt });
    for (const [suffix, d] of s.tags) hosts.push({ host: key.primary, role: "primary", tag: tagOf(suffix), digest: d, verifiedAt: s.checkedAt, dueAt: s.dueAt });
    for (const p of ledger.pairsOf(s).sort((a, b) => a.mirror.localeCompare(b.mirror))) {
      hosts.push({ host: p.mirror, role: "mirror", tag: tagOf(p.suffix), digest: p.digest, verifiedAt: p.verifiedAt, dueAt: p.dueAt });
    }
    out.push({ key, state: s.state, firstSeen: s.firstSeen, children: ledger.children(digest), hosts });
  }
  return out;
}
