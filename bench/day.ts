// A simulated day: 48 ledger runs 30 minutes apart (the test-only clock
// SIGMIRROR_TEST_CLOCK_OFFSET moves 30m each run) with about 1% new digests before each run,
// against stateless --no-ledger runs over the same, growing registries. Requests come from the
// registries' access logs.
//
// Shape: a primary + 3 mirrors, 16 repositories x 10 digests (4 indexes of 2 children, 6
// digests never signed). The day starts warm: a cold run at +0 and a run at +3h (past --settle
// 2h) come first and are shown apart; the day's runs are at +3h30m .. +27h, so every pair
// verified by the cold run and every signature settled at +3h comes due once inside the day,
// as each does once per --reverify-after (24h) in steady state. New digests: one in four is
// signed one run later (the signer lags), one in ten is an index. Every signed image also carries
// kpromo's provenance attestation as an OCI 1.1 referrer listed in the primary's fallback index,
// and before each run ATTEST_PER_RUN old images get one more attestation (a later SLSA provenance):
// the ledger carries those when their subject's primary check comes due, so the bench shows which
// run took each in (its ledger holds the referrer verified on every mirror: the baseline runs copy
// what the ledger has not reached yet, so the mirrors alone cannot say which tool carried it).
//
// The stateless baseline runs after the ledger run of the same step (every BENCH_STATELESS_EVERY
// -th step, default 3, and the last; the steps between are interpolated linearly, marked ~;
// BENCH_STATELESS_EVERY=1 runs all 48). It finds the new signatures already copied, so it holds
// no copies: the day's copy requests (~10 per pair, the same for any tool) are shown apart, and
// the target is judged on the total and on the checks alone.
// Reproduce: make build && node_modules/.bin/bun bench/day.ts   (SIGMIRROR_BIN=..., BENCH_RUNS=48, BENCH_STATELESS_EVERY=3)
import { join } from "node:path";
import { Ledger } from "../src/ledger/ledger.ts";
import type { AccessEntry } from "../test/harness/index.ts";
import { expectExit, pad, ratio, runSigmirror, shellLine, sigmirrorBinary } from "./lib-cli.ts";
import { isCopyRequest, kindText, Promotion, type NewImage, type PromotedImage } from "./lib-promotion.ts";
import { countsText, readReport, referrerKindText, type PushedReferrer, type ReferrerCounts } from "./lib-referrers.ts";

const MIRRORS = 3;
const REPOSITORIES = [
  "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "coredns", "etcd", "pause", "metrics-server",
  "ingress-nginx-controller", "cluster-autoscaler", "external-dns", "kueue", "csi-provisioner", "csi-attacher", "kwok", "kind-node",
];
const VERSIONS = 10;
const RUNS = Number(process.env["BENCH_RUNS"] ?? 48);
const NEW_FRACTION = 0.01;
const STATELESS_EVERY = Math.max(1, Number(process.env["BENCH_STATELESS_EVERY"] ?? 3));
const ATTEST_PER_RUN = Number(process.env["BENCH_ATTEST_PER_RUN"] ?? 2);
const LATER_PREDICATE = "https://slsa.dev/provenance/v1";

function minutes(m: number): string {
  const h = Math.floor(m / 60);
  const r = m % 60;
  return h === 0 ? `${r}m` : r === 0 ? `${h}h` : `${h}h${r}m`;
}

function initial(): NewImage[] {
  const out: NewImage[] = [];
  REPOSITORIES.forEach((name, r) => {
    for (let v = 0; v < VERSIONS; v++) {
      out.push({ name, tag: `v1.${r}.${v}`, index: v === VERSIONS - 1 && r % 4 === 0, sign: !(v === VERSIONS - 1 && r % 3 === 1) });
    }
  });
  return out;
}

const count = (m: Map<string, AccessEntry[]>): number => [...m.values()].reduce((n, e) => n + e.length, 0);

const binary = sigmirrorBinary();
const p = await Promotion.start(MIRRORS, { attest: true });
try {
  const t0 = performance.now();
  await p.add(initial());
  p.writeManifests();
  const ledger = join(p.dir, "state.db");
  const base = ["replicate", "--thin-manifest-dir", p.thinDir, "--primary", p.primary.host, "--rate-default", "1000"];
  const startSubjects = p.subjectCount;
  const startEntries = p.images.length;

  const startAttestations = p.attestations.length;
  let reports = 0;
  const run = async (what: string, offset: string | undefined, flags: readonly string[]) => {
    await p.clearLogs();
    const report = join(p.dir, `report-${reports++}.json`);
    const r = await runSigmirror(binary, [...base, ...flags, "--report", report], { env: offset === undefined ? {} : { SIGMIRROR_TEST_CLOCK_OFFSET: offset } });
    expectExit(what, r);
    const logs = await p.logs();
    return { logs, total: count(logs), seconds: r.ms / 1000, referrers: readReport(report).referrers };
  };
  const mirrorsOf = (logs: Map<string, AccessEntry[]>) => p.mirrors.reduce((n, m) => n + (logs.get(m.host)?.length ?? 0), 0);
  const primaryOf = (logs: Map<string, AccessEntry[]>) => logs.get(p.primary.host)?.length ?? 0;

  const cold = await run("cold", undefined, ["--ledger", ledger]);
  const settle = await run("settle", "3h", ["--ledger", ledger]);

  let carry = 0;
  let serial = 0;
  let lagging: PromotedImage[] = [];
  // The day's attestations on old images, until the ledger holds them verified on every mirror.
  interface Later {
    readonly r: PushedReferrer;
    readonly name: string;
    readonly at: number;
    carriedAt?: number;
  }
  const later: Later[] = [];
  const oldImages = p.images.filter((img) => img.signed);
  const refRows: { attested: number; counts: ReferrerCounts; stateless: ReferrerCounts | undefined; carried: number; refText: string }[] = [];
  interface Row {
    offset: string;
    added: number;
    entries: number;
    ledger: number;
    primary: number;
    mirrors: number;
    copies: number;
    stateless: number | undefined;
    ledgerS: number;
    statelessS: number | undefined;
  }
  const rows: Row[] = [];
  const dayPrimary: AccessEntry[] = [];
  const dayMirrors: AccessEntry[] = [];
  const dayT0 = performance.now();
  for (let i = 0; i < RUNS; i++) {
    const offset = minutes(210 + 30 * i);
    // The signer catches up on last run's images, and the promoter adds ~1% new ones.
    for (const img of lagging) await p.sign(img);
    carry += p.images.length * NEW_FRACTION;
    const n = Math.floor(carry);
    carry -= n;
    const fresh: NewImage[] = [];
    for (let k = 0; k < n; k++, serial++) {
      const name = REPOSITORIES[serial % REPOSITORIES.length] ?? "pause";
      fresh.push({ name, tag: `v2.${i}.${k}`, index: serial % 10 === 9, sign: serial % 4 !== 3 });
    }
    const added = await p.add(fresh);
    lagging = added.filter((a) => !a.signed);
    p.writeManifests();
    for (let k = 0; k < ATTEST_PER_RUN; k++) {
      // Spread over the old images (a stride coprime to their count), each attested at most once more.
      const img = oldImages[(later.length * 37) % oldImages.length];
      if (img !== undefined) later.push({ r: await p.attestOne(img, `later:${i}:${k}`, LATER_PREDICATE), name: img.name, at: i });
    }

    const subjects = p.subjects();
    const withLedger = await run(`day run ${i + 1}`, offset, ["--ledger", ledger]);
    let carried = 0;
    const held = Ledger.openReadOnly(ledger);
    try {
      for (const l of later.filter((x) => x.carriedAt === undefined)) {
        const subject = held.subject({ primary: p.primary.host, repository: `prod/${l.name}`, digest: l.r.subject });
        const pairs = subject === undefined ? [] : held.referrerPairsOf(subject).filter((rp) => rp.digest === l.r.digest);
        if (pairs.length === MIRRORS) {
          l.carriedAt = i;
          carried++;
        }
      }
    } finally {
      held.close();
    }
    const measured = i % STATELESS_EVERY === 0 || i === RUNS - 1;
    const stateless = measured ? await run(`stateless run ${i + 1}`, offset, ["--no-ledger"]) : undefined;
    const refs = p.referrerDigests();
    const refBlobs = p.referrerBlobs();
    const primaryLog = withLedger.logs.get(p.primary.host) ?? [];
    const mirrorLog = p.mirrors.flatMap((m) => withLedger.logs.get(m.host) ?? []);
    dayPrimary.push(...primaryLog);
    dayMirrors.push(...mirrorLog);
    rows.push({
      offset,
      added: n,
      entries: p.images.length,
      ledger: withLedger.total,
      primary: primaryOf(withLedger.logs),
      mirrors: mirrorsOf(withLedger.logs),
      copies: primaryLog.filter((e) => isCopyRequest(e, true, subjects)).length + mirrorLog.filter((e) => isCopyRequest(e, false, subjects)).length,
      stateless: stateless?.total,
      ledgerS: withLedger.seconds,
      statelessS: stateless?.seconds,
    });
    refRows.push({
      attested: ATTEST_PER_RUN,
      counts: withLedger.referrers,
      stateless: stateless?.referrers,
      carried,
      refText: `primary: ${referrerKindText(primaryLog, refs, refBlobs)} | mirrors: ${referrerKindText(mirrorLog, refs, refBlobs)}`,
    });
  }
  const dayS = (performance.now() - dayT0) / 1000;

  // Steps without a stateless run: linear between the measured neighbours.
  const measuredAt = rows.flatMap((r, i) => (r.stateless === undefined ? [] : [i]));
  const statelessAt = (i: number): number => {
    const r = rows[i];
    if (r?.stateless !== undefined) return r.stateless;
    const lo = [...measuredAt].reverse().find((j) => j < i) ?? 0;
    const hi = measuredAt.find((j) => j > i) ?? lo;
    const a = rows[lo]?.stateless ?? 0;
    const b = rows[hi]?.stateless ?? a;
    return hi === lo ? a : Math.round(a + ((b - a) * (i - lo)) / (hi - lo));
  };
  const stateless = rows.map((_, i) => statelessAt(i));

  const day = rows.reduce((s, r) => s + r.ledger, 0);
  const copies = rows.reduce((s, r) => s + r.copies, 0);
  const checks = day - copies;
  const statelessSum = stateless.reduce((a, b) => a + b, 0);
  const statelessMean = statelessSum / Math.max(1, stateless.length);
  const first = stateless[0] ?? 0;
  const last = stateless[stateless.length - 1] ?? 0;
  const newTotal = rows.reduce((s, r) => s + r.added, 0);
  // Signature pairs: a PUT of a cosign tag on a mirror; referrer pairs: sigmirror's own count.
  const sigPairs = dayMirrors.filter((e) => e.method === "PUT" && /\/manifests\/sha256-[0-9a-f]{64}\.(sig|att|sbom)$/.test(e.path)).length;
  const refPairs = refRows.reduce((n, r) => n + r.counts.copied, 0);
  const copiedPairs = sigPairs + refPairs;

  console.log(
    `day: scenario: primary + ${MIRRORS} mirrors (distribution 2.8, loopback), ${REPOSITORIES.length} repositories; ` +
      `${startEntries} manifest entries (${startSubjects} subjects) at the start, ${p.images.length} (${p.subjectCount} subjects) at the end: ` +
      `${newTotal} new over ${RUNS} runs (1% of the entries per run); set up in ${((dayT0 - t0) / 1000).toFixed(1)} s, the day's runs took ${dayS.toFixed(0)} s`,
  );
  console.log(`day: before the day: cold run ${cold.total} requests (${cold.seconds.toFixed(1)} s), settling run at +3h ${settle.total} (primary ${primaryOf(settle.logs)}, mirrors ${mirrorsOf(settle.logs)})`);
  console.log(`day: ${"run".padStart(3)} ${"clock".padEnd(6)} ${pad("new", 3)} ${pad("entries", 7)} ${pad("ledger", 6)} ${pad("prim", 5)} ${pad("mirr", 5)} ${pad("copy", 5)} ${pad("no-ledger", 10)}`);
  rows.forEach((r, i) => {
    const s = r.stateless === undefined ? `~${statelessAt(i)}` : String(r.stateless);
    console.log(`day: ${pad(i + 1, 3)} ${r.offset.padEnd(6)} ${pad(r.added, 3)} ${pad(r.entries, 7)} ${pad(r.ledger, 6)} ${pad(r.primary, 5)} ${pad(r.mirrors, 5)} ${pad(r.copies, 5)} ${pad(s, 10)}`);
  });
  console.log(`day: referrers: ${startAttestations} attestation referrers at the start (one per signed image), ${p.attestations.length} at the end; ${ATTEST_PER_RUN} new ones on old images before each run`);
  console.log(`day: referrers: ${"run".padStart(3)} ${"clock".padEnd(6)} ${pad("att", 3)} ${pad("ledger c/c/t", 13)} ${pad("no-ledger c/c/t", 16)} ${pad("taken in", 8)}  requests for referrers alone`);
  refRows.forEach((r, i) => {
    console.log(
      `day: referrers: ${pad(i + 1, 3)} ${(rows[i]?.offset ?? "").padEnd(6)} ${pad(r.attested, 3)} ${pad(countsText(r.counts), 13)} ${pad(r.stateless === undefined ? "-" : countsText(r.stateless), 16)} ${pad(r.carried, 8)}  ${r.refText}`,
    );
  });
  const carriedLater = later.filter((l) => l.carriedAt !== undefined);
  const delays = carriedLater.map((l) => (l.carriedAt ?? 0) - l.at);
  const onMirrors = await p.listedReferrerPairs(later.map((l) => l.r));
  console.log(
    `day: referrers: of ${later.length} attestations added to old images during the day, the ledger holds ${carriedLater.length} verified on all ${MIRRORS} mirrors ` +
      `(${delays.filter((d) => d === 0).length} by the run right after, mean delay ${(delays.reduce((a, b) => a + b, 0) / Math.max(1, delays.length)).toFixed(1)} runs, ` +
      `max ${Math.max(0, ...delays)}); ${later.length - carriedLater.length} wait for their image's next primary check; ` +
      `on the mirrors at the end (either tool copied): ${onMirrors} of ${later.length * MIRRORS} pairs`,
  );
  console.log(`day: referrer pairs over the day's ledger runs (--report): checked ${refRows.reduce((n, r) => n + r.counts.checked, 0)}, copied ${refPairs}, already there ${refRows.reduce((n, r) => n + r.counts.there, 0)}`);
  console.log(`day: the day's ledger runs by kind: primary: ${kindText(dayPrimary)} | mirrors: ${kindText(dayMirrors)}`);
  console.log(
    `day: total of ${RUNS} ledger runs: ${day} requests = ${copies} copying ${copiedPairs} signature pairs (${(copies / Math.max(1, copiedPairs)).toFixed(1)} per pair) + ${checks} checks`,
  );
  console.log(`day:   the copied pairs: ${sigPairs} signature pairs (a PUT of a cosign tag) + ${refPairs} referrer pairs (sigmirror's --report)`);
  console.log(
    `day: stateless: ${measuredAt.length} of ${RUNS} runs measured, the rest interpolated; one run: first ${first}, mean ${statelessMean.toFixed(0)}, last ${last}; ` +
      `${RUNS} runs ${statelessSum}, ${statelessSum + copies} with the same copies`,
  );
  console.log(
    `day: ratios: day / one stateless run ${ratio(day, statelessMean)} (mean), ${ratio(day, first)} (first), ${ratio(day, last)} (last); ` +
      `checks alone / one stateless run ${ratio(checks, statelessMean)} (mean), ${ratio(checks, first)} (first); ` +
      `day / ${RUNS} stateless runs with the same copies ${ratio(day, statelessSum + copies)}`,
  );
  const ledgerMean = rows.reduce((s, r) => s + r.ledgerS, 0) / rows.length;
  const statelessWall = rows.flatMap((r) => (r.statelessS === undefined ? [] : [r.statelessS]));
  console.log(`day: wall per run: ledger mean ${ledgerMean.toFixed(2)} s, stateless mean ${(statelessWall.reduce((a, b) => a + b, 0) / Math.max(1, statelessWall.length)).toFixed(2)} s`);
  console.log(`day: target: the whole day costs at most 2x one stateless run (mean): ${day} <= ${(2 * statelessMean).toFixed(0)}: ${day <= 2 * statelessMean ? "met" : "missed"}`);
  console.log(`day: target, copies left out (the baseline has none): ${checks} <= ${(2 * statelessMean).toFixed(0)}: ${checks <= 2 * statelessMean ? "met" : "missed"}`);
  console.log("day: reproduce with: make build && node_modules/.bin/bun bench/day.ts");
  console.log(
    `day:   run k: SIGMIRROR_TEST_CLOCK_OFFSET=<3h30m + (k-1) x 30m> ${shellLine(["dist/sigmirror", ...base.map((a) => (a === p.thinDir ? "DIR/manifests" : a === p.primary.host ? "PRIMARY" : a)), "--ledger", "DIR/state.db"])}`,
  );
  console.log(`day:   its baseline: the same with --no-ledger instead of --ledger DIR/state.db`);
} finally {
  await p.stop();
}
