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

/** Counted by SQLite: a pass over 920,000 pair rows in JS would take seconds. */
export function ledgerStats(ledger: Ledger, now: number): LedgerStats {
  const subjects = { signed: 0, unsigned: 0, missing: 0 };
  const db = ledger.database;
  if (db === undefined) {
    return { subjects, pairs: 0, pairsDueNow: 0, subjectsDueNow: 0, oldestVerification: undefined, hosts: [], lastRun: undefined };
  }
  const n = (v: unknown): number => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : 0);
  const states = ["missing", "unsigned", "signed"] as const;
  let subjectsDueNow = 0;
  for (const r of db.prepare("SELECT state, count(*) AS n, sum(due_at <= ?) AS due FROM subjects GROUP BY state").all(now)) {
    const state = states[n(r["state"])];
    if (state !== undefined) subjects[state] += n(r["n"]);
    subjectsDueNow += n(r["due"]);
  }
  // Tag pairs: rows, and folded ones counted per mirror set (settle.ts), never expanded one by one.
  const perHost = new Map<number, { pairs: number; dueNow: number }>();
  const add = (host: number, pairs: number, due: number) => {
    const h = perHost.get(host) ?? { pairs: 0, dueNow: 0 };
    perHost.set(host, { pairs: h.pairs + pairs, dueNow: h.dueNow + due });
  };
  let oldest: number | undefined;
  const older = (t: unknown) => {
    if (t !== null && t !== undefined && (oldest === undefined || n(t) < oldest)) oldest = n(t);
  };
  for (const r of db.prepare("SELECT host_id, count(*) AS n, sum(verified_at + due_in * 60 <= ?) AS due, min(verified_at) AS oldest FROM pairs GROUP BY host_id").all(now)) {
    add(n(r["host_id"]), n(r["n"]), n(r["due"]));
    older(r["oldest"]);
  }
  const folded = db.prepare(
    `SELECT s.settled_set AS set_id, count(*) AS n, sum(s.pairs_due <= ?) AS due, min(s.settled_at) AS oldest
     FROM subjects s JOIN subject_tags t ON t.subject_id = s.id WHERE s.settled_set <> 0 GROUP BY s.settled_set`,
  );
  for (const r of folded.all(now)) {
    for (const h of db.prepare("SELECT host_id FROM mirror_set_hosts WHERE set_id = ?").all(n(r["set_id"]))) add(n(h["host_id"]), n(r["n"]), n(r["due"]));
    older(r["oldest"]);
  }
  const names = new Map(db.prepare("SELECT id, name FROM hosts").all().map((r) => [n(r["id"]), String(r["name"])]));
  const hosts = [...perHost]
    .map(([id, h]) => ({ host: names.get(id) ?? "", pairs: h.pairs, dueNow: h.dueNow }))
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  const all = { n: hosts.reduce((x, h) => x + h.pairs, 0), due: hosts.reduce((x, h) => x + h.dueNow, 0) };
  const row = db.prepare("SELECT verb, started_at, finished_at FROM runs ORDER BY id DESC LIMIT 1").get();
  return {
    subjects,
    pairs: all.n,
    pairsDueNow: all.due,
    subjectsDueNow,
    oldestVerification: oldest,
    hosts,
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
  /** The artefact family (stored name); its tag on a registry is the caller's to spell. */
  readonly family: string;
  readonly digest: string | undefined;
  readonly verifiedAt: number | undefined;
  readonly dueAt: number | undefined;
}

export interface ExplainedReferrer {
  readonly digest: string;
  readonly of: string;
  readonly artifactType: string;
  /** Mirrors seen to serve and list it, with when. */
  readonly mirrors: readonly { readonly host: string; readonly verifiedAt: number; readonly dueAt: number }[];
}

export interface Explained {
  readonly key: SubjectKey;
  readonly state: string;
  readonly firstSeen: number;
  readonly children: readonly string[] | undefined;
  readonly hosts: readonly ExplainedHost[];
  /** The primary's referrers (OCI 1.1) the ledger knows, and where each was verified. */
  readonly referrers: readonly ExplainedReferrer[];
}

/** Every subject of `repository@digest` (one per primary host). */
export function explain(ledger: Ledger, repository: string, digest: string): Explained[] {
  const out: Explained[] = [];
  for (const [key, s] of ledger.entries()) {
    if (key.repository !== repository || key.digest !== digest) continue;
    const hosts: ExplainedHost[] = [];
    if (s.tags.size === 0) hosts.push({ host: key.primary, role: "primary", family: "sig", digest: undefined, verifiedAt: s.checkedAt, dueAt: s.dueAt });
    for (const [family, d] of s.tags) hosts.push({ host: key.primary, role: "primary", family, digest: d, verifiedAt: s.checkedAt, dueAt: s.dueAt });
    for (const p of ledger.pairsOf(s).sort((a, b) => a.mirror.localeCompare(b.mirror))) {
      hosts.push({ host: p.mirror, role: "mirror", family: p.suffix, digest: p.digest, verifiedAt: p.verifiedAt, dueAt: p.dueAt });
    }
    const pairs = ledger.referrerPairsOf(s).sort((a, b) => a.mirror.localeCompare(b.mirror));
    const referrers = s.referrers.map((r) => ({
      digest: r.digest, // a getter on a loaded referrer (family-tags.ts): never spread
      of: r.of,
      artifactType: r.artifactType,
      mirrors: pairs.filter((p) => p.digest === r.digest).map((p) => ({ host: p.mirror, verifiedAt: p.verifiedAt, dueAt: p.dueAt })),
    }));
    out.push({ key, state: s.state, firstSeen: s.firstSeen, children: ledger.children(digest), hosts, referrers });
  }
  return out;
}
