// Requests per run, from the registries' own access logs, side by side on one promotion:
// a cold run, the next run, the run that settles young signatures, a warm run with nothing due,
// a run a day later (every pair due), and a --no-ledger run (the stateless baseline), all over
// the same registries (a primary + 3 mirrors, 8 repositories x 5 digests, 2 of them indexes,
// 4 unsigned; each signed image also has kpromo's provenance attestation as an OCI 1.1 referrer,
// listed in the primary's fallback index). The test-only clock SIGMIRROR_TEST_CLOCK_OFFSET steps past settle and backoff.
// Reproduce: make build && node_modules/.bin/bun bench/requests.ts   (SIGMIRROR_BIN=... to pick a binary)
import { join } from "node:path";
import type { AccessEntry } from "../test/harness/index.ts";
import { expectExit, pad, ratio, runSigmirror, shellLine, sigmirrorBinary } from "./lib-cli.ts";
import { kindText, Promotion, type NewImage } from "./lib-promotion.ts";
import { bundleType, countsText, promotionPredicate, readReport, referrerKindText, type ReferrerCounts } from "./lib-referrers.ts";

const MIRRORS = 3;
const REPOSITORIES = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "coredns", "etcd", "pause", "metrics-server"];
const VERSIONS = 5;

interface Measured {
  readonly name: string;
  readonly offset: string | undefined;
  readonly flags: readonly string[];
  readonly perHost: Map<string, AccessEntry[]>;
  readonly tool: number;
  readonly code: number;
  readonly seconds: number;
  /** sigmirror's --report referrer pair counts: the run's, and per host. */
  readonly referrers: ReferrerCounts;
  readonly referrersPerHost: ReadonlyMap<string, ReferrerCounts>;
}

const total = (m: Measured): number => [...m.perHost.values()].reduce((n, e) => n + e.length, 0);

function plan(): NewImage[] {
  const out: NewImage[] = [];
  REPOSITORIES.forEach((name, r) => {
    for (let v = 0; v < VERSIONS; v++) {
      const newest = v === VERSIONS - 1;
      out.push({
        name,
        tag: `v1.${r}.${v}`,
        // Two multi-arch images; the newest version of four repositories not signed (yet).
        index: newest && (name === "coredns" || name === "pause"),
        sign: !(newest && r % 2 === 1),
      });
    }
  });
  return out;
}

const binary = sigmirrorBinary();
const p = await Promotion.start(MIRRORS, { attest: true });
try {
  const t0 = performance.now();
  await p.add(plan());
  p.writeManifests();
  const setupS = (performance.now() - t0) / 1000;
  const signedSubjects = p.images.filter((i) => i.signed).reduce((n, i) => n + i.subjects.length, 0);
  const unsignedSubjects = p.subjectCount - signedSubjects;
  const indexes = p.images.filter((i) => i.subjects.length > 1).length;
  const ledger = join(p.dir, "state.db");
  const base = ["replicate", "--thin-manifest-dir", p.thinDir, "--primary", p.primary.host, "--rate-default", "1000"];

  const measure = async (name: string, offset: string | undefined, flags: readonly string[]): Promise<Measured> => {
    const report = join(p.dir, `report-${name}.json`);
    await p.clearLogs();
    const r = await runSigmirror(binary, [...base, ...flags, "--report", report], {
      env: offset === undefined ? {} : { SIGMIRROR_TEST_CLOCK_OFFSET: offset },
    });
    expectExit(name, r);
    const perHost = await p.logs();
    const rep = readReport(report);
    return { name, offset, flags, perHost, tool: rep.requests, code: r.code, seconds: r.ms / 1000, referrers: rep.referrers, referrersPerHost: rep.perHost };
  };

  const withLedger = ["--ledger", ledger];
  const runs: Measured[] = [];
  runs.push(await measure("cold", undefined, withLedger));
  runs.push(await measure("next", "30m", withLedger));
  runs.push(await measure("settle", "3h", withLedger));
  runs.push(await measure("warm", "3h30m", withLedger));
  runs.push(await measure("day-later", "25h", withLedger));
  runs.push(await measure("no-ledger", undefined, ["--no-ledger"]));
  const byName = new Map(runs.map((m) => [m.name, m]));
  const get = (n: string): Measured => {
    const m = byName.get(n);
    if (m === undefined) throw new Error(n);
    return m;
  };

  console.log(
    `requests: scenario: primary + ${MIRRORS} mirrors (distribution 2.8, anonymous, loopback), ${REPOSITORIES.length} repositories, ` +
      `${p.images.length} manifest entries (${indexes} indexes of 2 children): ${signedSubjects} signed subjects, ${unsignedSubjects} unsigned; ` +
      `${signedSubjects * MIRRORS} signature pairs; set up in ${setupS.toFixed(1)} s`,
  );
  const attested = p.attestations.length;
  console.log(
    `requests: referrers: ${attested} attestation referrers on the primary (artifactType ${bundleType}, predicate ${promotionPredicate}), ` +
      `one per signed image, listed in its fallback index (distribution 2.8: no referrers API); ${attested * MIRRORS} referrer pairs`,
  );
  console.log("requests: from the registries' access logs (sigmirror's own --report count in the last column)");
  const hosts = p.all.map((r) => r.host);
  console.log(
    `requests: ${"run".padEnd(10)} ${"clock".padEnd(6)} ${hosts.map((h) => pad(p.label(h), 8)).join(" ")} ${pad("total", 7)} ${pad("report", 7)} ${pad("wall s", 7)}`,
  );
  for (const m of runs) {
    console.log(
      `requests: ${m.name.padEnd(10)} ${(m.offset ?? "+0").padEnd(6)} ${hosts.map((h) => pad(m.perHost.get(h)?.length ?? 0, 8)).join(" ")} ` +
        `${pad(total(m), 7)} ${pad(m.tool, 7)} ${pad(m.seconds.toFixed(2), 7)}`,
    );
  }
  console.log("requests: by kind (primary | mirrors together):");
  for (const m of runs) {
    const mirrors = p.mirrors.flatMap((r) => m.perHost.get(r.host) ?? []);
    console.log(`requests:   ${m.name.padEnd(10)} primary: ${kindText(m.perHost.get(p.primary.host) ?? [])} | mirrors: ${kindText(mirrors)}`);
  }
  const refs = p.referrerDigests();
  const refBlobs = p.referrerBlobs();
  console.log("requests: referrer requests by kind (primary | mirrors together; tag listings serve both and are left out):");
  for (const m of runs) {
    const mirrors = p.mirrors.flatMap((r) => m.perHost.get(r.host) ?? []);
    console.log(`requests:   ${m.name.padEnd(10)} primary: ${referrerKindText(m.perHost.get(p.primary.host) ?? [], refs, refBlobs)} | mirrors: ${referrerKindText(mirrors, refs, refBlobs)}`);
  }
  console.log(`requests: referrer pairs from sigmirror's --report, checked/copied/there: ${["run".padEnd(10), "all", ...p.mirrors.map((r) => p.label(r.host))].join(" ")}`);
  for (const m of runs) {
    console.log(`requests:   ${m.name.padEnd(10)} ${countsText(m.referrers)} ${p.mirrors.map((r) => countsText(m.referrersPerHost.get(r.host))).join(" ")}`);
  }
  const listed = await p.listedReferrerPairs();
  console.log(`requests: referrer pairs served by digest and listed in the mirror's fallback index after the runs: ${listed} of ${attested * MIRRORS}`);
  const stateless = total(get("no-ledger"));
  console.log(
    `requests: ratios to the stateless --no-ledger run (${stateless}): ` +
      ["cold", "next", "settle", "warm", "day-later"].map((n) => `${n}/no-ledger ${ratio(total(get(n)), stateless)}`).join(", "),
  );
  const mismatched = runs.filter((m) => m.tool !== total(m));
  console.log(
    mismatched.length === 0
      ? "requests: sigmirror's own per-host counts equal the access logs in every run"
      : `requests: sigmirror's own counts differ from the access logs in: ${mismatched.map((m) => `${m.name} (${m.tool} vs ${total(m)})`).join(", ")}`,
  );
  const next = get("next");
  const nextMirrors = p.mirrors.reduce((n, r) => n + (next.perHost.get(r.host)?.length ?? 0), 0);
  const nextPrimary = next.perHost.get(p.primary.host)?.length ?? 0;
  // Each young attested image's fallback index is read once more (a GET; its absence a 404 of the same cost).
  const allowed = signedSubjects + unsignedSubjects + attested + 1;
  console.log(
    `requests: target: run after cold: 0 to mirrors (${nextMirrors}) and <= ${allowed} to the primary ` +
      `(${signedSubjects} young + ${unsignedSubjects} unsigned + ${attested} fallback indexes + ping; got ${nextPrimary}): ${nextMirrors === 0 && nextPrimary <= allowed ? "met" : "missed"}`,
  );
  console.log(`requests: target: warm run with nothing due sends 0 requests (${total(get("warm"))}): ${total(get("warm")) === 0 ? "met" : "missed"}`);
  console.log("requests: reproduce with: make build && node_modules/.bin/bun bench/requests.ts");
  for (const m of runs) {
    const env = m.offset === undefined ? "" : `SIGMIRROR_TEST_CLOCK_OFFSET=${m.offset} `;
    const flags = m.flags.map((f) => (f === ledger ? "DIR/state.db" : f));
    console.log(`requests:   ${m.name}: ${env}${shellLine(["dist/sigmirror", "replicate", "--thin-manifest-dir", "DIR/manifests", "--primary", "PRIMARY", "--rate-default", "1000", ...flags])}`);
  }
} finally {
  await p.stop();
}
