// The same job done by each tool, side by side in one run: copy a distribution primary's cosign
// signatures (legacy .sig/.att tags) and OCI 1.1 referrers (Sigstore bundles) to three mirrors
// (2 distribution 2.8 + 1 olareg, the one with the referrers API), with sigmirror, regsync (with
// and without fastCheck), skopeo sync and oras cp -r. Each tool gets fresh mirrors holding the
// promoted images and no signatures, then a cold run, the run right after and a settled run;
// requests per host come from the registries' own access logs (olareg's from its counting proxy).
// A tool that leaves something uncopied is INCOMPLETE and its figures are not compared as cheaper.
// Figures only, no thresholds: the tests hold the targets.
// Then a simulated day per complete tool (bench/lib-peers-day.ts): BENCH_DAY_RUNS (48) runs 30
// minutes apart with ~1% new images per run and new attestations on old images.
// Reproduce: make build && node_modules/.bin/bun bench/peers.ts   (BENCH_IMAGES=200, BENCH_DAY_RUNS=48, BENCH_DAY_LOG=FILE, BENCH_TOOLS=..., SIGMIRROR_BIN=...)
import { existsSync, rmSync } from "node:fs";
import { startRegistry, type AccessEntry, type TestRegistry } from "../test/harness/index.ts";
import { goToolsMissingReason } from "../test/harness/go-tools.ts";
import { hasGnuTime, pad, ratio, sigmirrorBinary } from "./lib-cli.ts";
import { kindText } from "./lib-promotion.ts";
import { DAY_RUNS, printDay, restorePrimary, runDay, snapshotPrimary, type DayRow } from "./lib-peers-day.ts";
import { orasPeer, orasBin, regsyncBin, regsyncPeer, sigmirrorPeer, skopeoBin, skopeoPeer, type Job, type Peer, type ToolRun } from "./lib-peer-tools.ts";
import {
  checkMirror, COSIGN_SAMPLE, expectedFrom, fingerprint, missingTotal, planImages, promote, REPOSITORIES, scratchDir, signPrimary, startMirrors, verifySample,
  type Missing, type Mirror,
} from "./lib-peers.ts";

const IMAGES = Number(process.env["BENCH_IMAGES"] ?? "200");
const log = (s: string): void => console.log(`peers: ${s}`);

interface RunFigures {
  readonly tool: string;
  readonly run: string;
  readonly r: ToolRun;
  readonly perHost: Map<string, AccessEntry[]>;
  readonly missing: Missing[];
}

interface ToolResult {
  readonly peer: Peer;
  readonly runs: RunFigures[];
  readonly verified: { ok: number; of: number; failed: string[] };
  readonly errors: string;
  readonly day: DayRow;
}

const why = goToolsMissingReason(["cosign", "olareg"]);
if (why !== undefined || !existsSync(regsyncBin) || !existsSync(orasBin) || !existsSync(skopeoBin) || !hasGnuTime) {
  throw new Error(`peers: needs cosign, olareg, regsync, oras (scripts/install-go-tools.sh), skopeo and /usr/bin/time: ${why ?? "a peer is missing"}`);
}
const binary = sigmirrorBinary();
const dir = scratchDir();
const primary: TestRegistry = await startRegistry();
const results: ToolResult[] = [];
let snapshot = "";
try {
  const t0 = performance.now();
  const plan = planImages(IMAGES);
  const images = await promote(primary, plan);
  const keys = await signPrimary(primary, images, dir);
  const expected = await expectedFrom(primary);
  // The simulated day changes the primary: each tool's day ends by putting this copy back.
  snapshot = await snapshotPrimary(primary);
  const tagCount = [...expected.tags.values()].reduce((n, m) => n + m.size, 0);
  const sigs = [...expected.tags.values()].reduce((n, m) => n + [...m.keys()].filter((t) => t.endsWith(".sig")).length, 0);
  const copies = tagCount + expected.referrers.length;
  const subjects = images.reduce((n, i) => n + 1 + i.children.length, 0);
  const how = new Map<string, number>();
  for (const i of images) how.set(i.how, (how.get(i.how) ?? 0) + 1);
  log(
    `scenario: primary distribution 2.8; mirrors per tool, fresh: mirror1, mirror2 distribution 2.8 (no referrers API: fallback index), ` +
      `mirror3 olareg v0.2.2 (referrers API, counted through a proxy); all plain HTTP on loopback`,
  );
  log(
    `scenario: ${images.length} images (${images.filter((i) => i.children.length > 0).length} indexes of 2 children; ${subjects} subjects) in ${REPOSITORIES.length} repositories; ` +
      `on the primary ${sigs} .sig tags, ${tagCount - sigs} .att tags, ${expected.referrers.length} referrers: ${copies} objects to copy x 3 mirrors; set up in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  log(`signed how (cosign v3.1.2 for a sample of ${COSIGN_SAMPLE}, the harness's cosign-shaped writers for the rest):`);
  for (const [h, n] of [...how].sort()) log(`  ${pad(n, 4)} ${h}`);

  const factories: [string, (job: Job) => Peer][] = [
    ["sigmirror", sigmirrorPeer], ["regsync-fast", (j) => regsyncPeer(j, true)], ["regsync", (j) => regsyncPeer(j, false)], ["skopeo", skopeoPeer], ["oras", orasPeer],
  ];
  // BENCH_TOOLS=sigmirror,oras runs a subset (for working on one peer's setup).
  const only = (process.env["BENCH_TOOLS"] ?? "").split(",").filter((s) => s !== "");
  for (const [key, make] of factories) {
    if (only.length > 0 && !only.includes(key)) continue;
    const mirrors: Mirror[] = await startMirrors(plan);
    const hosts = [primary, ...mirrors.map((m) => m.reg)];
    const job: Job = { sigmirror: binary, primary, mirrors, images: [...images], dir: scratchDir() };
    const peer = make(job);
    const runs: RunFigures[] = [];
    try {
      for (const step of peer.runs) {
        await Promise.all(hosts.map((h) => h.clearLog()));
        const r = await peer.run(step.env ?? {});
        const perHost = new Map(await Promise.all(hosts.map(async (h) => [h.host, await h.accessLog()] as const)));
        const missing = await Promise.all(mirrors.map((m) => checkMirror(m, expected)));
        runs.push({ tool: peer.name, run: step.name, r, perHost, missing });
        log(`${peer.name} ${step.name}: exit ${r.run.code}, ${r.run.time?.seconds ?? "?"} s, missing ${missing.map(missingTotal).join("/")}`);
      }
      const verified = { ok: 0, of: 0, failed: [] as string[] };
      for (const m of mirrors) {
        const v = await verifySample(m, images, keys);
        verified.ok += v.ok;
        verified.of += v.of;
        verified.failed.push(...v.failed.map((f) => `mirror${mirrors.indexOf(m) + 1} ${f}`));
      }
      const last = runs[runs.length - 1];
      // Distinct complaints only: a peer repeats the same one per image.
      // skopeo logs each copy at level=info on stderr: those are progress, not complaints.
      const lines = last === undefined ? [] : last.r.run.err.trim().split("\n").filter((l) => l !== "" && !/level=info|^(Copying|Writing|Storing|Getting) /.test(l));
      const errors = [...new Set(lines)].slice(-4).join(" | ");
      const incomplete = runs.some((f) => f.missing.some((m) => missingTotal(m) > 0)) || verified.ok < verified.of;
      let day: DayRow = { tool: peer.name, day: undefined, skipped: incomplete ? "INCOMPLETE after its settled run: a day would not be comparable" : "BENCH_DAY_RUNS=0" };
      if (!incomplete && DAY_RUNS > 0) {
        try {
          day = { tool: peer.name, day: await runDay(job, peer, DAY_RUNS, log) };
        } finally {
          restorePrimary(primary, snapshot);
        }
        const back = await expectedFrom(primary);
        const n = (e: typeof expected): string => `${[...e.tags.values()].reduce((k, m) => k + m.size, 0)} tags, ${e.referrers.length} referrers`;
        // Every tag at its digest and every referrer, not only their numbers.
        if (fingerprint(back) !== fingerprint(expected)) throw new Error(`peers: the primary was not restored after ${peer.name}'s day: ${n(back)}, expected ${n(expected)}`);
        const d = day.day;
        if (d !== undefined) log(`${peer.name} day: ${d.runs} runs in ${d.seconds.toFixed(0)} s, ${d.perHost.reduce((a, b) => a + b, 0)} requests; primary restored as it was before the day (${n(back)})`);
      }
      results.push({ peer, runs, verified, errors, day });
    } finally {
      for (const m of mirrors) await m.reg.stop();
      rmSync(job.dir, { recursive: true, force: true });
    }
  }

  const label = ["primary", "mirror1", "mirror2", "mirror3"];
  const mirrorRequests = (f: RunFigures): number => [...f.perHost.values()].slice(1).reduce((n, e) => n + e.length, 0);
  const totalRequests = (f: RunFigures): number => [...f.perHost.values()].reduce((n, e) => n + e.length, 0);
  const complete = (t: ToolResult): boolean => t.runs.every((f) => f.missing.every((m) => missingTotal(m) === 0)) && t.verified.ok === t.verified.of;
  log("");
  log("requests per host from the access logs; wall/CPU(user+sys)/peak RSS from GNU time; load = 1-min load average before->after");
  log(`${"tool".padEnd(18)} ${"run".padEnd(8)} ${label.map((l) => pad(l, 8)).join(" ")} ${pad("total", 7)} ${pad("wall s", 7)} ${pad("cpu s", 7)} ${pad("RSS MiB", 8)} ${pad("load", 11)} exit  missing on mirror1/2/3`);
  for (const t of results) {
    for (const f of t.runs) {
      const tm = f.r.run.time;
      log(
        `${t.peer.name.padEnd(18)} ${f.run.padEnd(8)} ${[...f.perHost.values()].map((e) => pad(e.length, 8)).join(" ")} ${pad(totalRequests(f), 7)} ` +
          `${pad(tm?.seconds.toFixed(2) ?? "?", 7)} ${pad(tm?.cpuSeconds.toFixed(2) ?? "?", 7)} ${pad(tm === undefined ? "?" : (tm.maxRssKiB / 1024).toFixed(0), 8)} ` +
          `${pad(`${f.r.load[0].toFixed(2)}->${f.r.load[1].toFixed(2)}`, 11)} ${pad(f.r.run.code, 4)}  ${f.missing.map(missingTotal).join("/")}`,
      );
    }
  }
  log("");
  log("correctness after each tool's last run (tags: .sig/.att at the primary's digest; referrers: served by digest and listed: API on olareg, fallback index on distribution):");
  for (const t of results) {
    const last = t.runs[t.runs.length - 1];
    const parts = (last?.missing ?? []).map((m, i) => `mirror${i + 1}: ${missingTotal(m) === 0 ? "complete" : `.sig missing ${m.sigs}, .att missing ${m.atts}, tags at another digest ${m.differ}, referrers missing ${m.referrers}, unlisted ${m.unlisted}${m.examples.length > 0 ? ` (e.g. ${m.examples.join(", ")})` : ""}`}`);
    log(`  ${t.peer.name.padEnd(18)} ${complete(t) ? "COMPLETE" : "INCOMPLETE"}; cosign verify of the cosign-signed sample: ${t.verified.ok}/${t.verified.of}`);
    log(`    ${parts.join("; ")}`);
    if (t.verified.failed.length > 0) log(`    verify failed: ${t.verified.failed.slice(0, 6).join(", ")}${t.verified.failed.length > 6 ? ", ..." : ""}`);
    // A complete tool's stderr is its progress log: shown only for a tool that missed something or failed.
    const failed = !complete(t) || t.runs.some((f) => f.r.run.code !== 0);
    if (failed && t.errors !== "") log(`    last run's stderr (distinct lines, end): ${t.errors.slice(0, 900)}`);
  }
  log("");
  log("requests by kind in the cold run (primary | mirrors together):");
  for (const t of results) {
    const f = t.runs[0];
    if (f === undefined) continue;
    const all = [...f.perHost.values()];
    log(`  ${t.peer.name.padEnd(18)} primary: ${kindText(all[0] ?? [])} | mirrors: ${kindText(all.slice(1).flat())}`);
  }
  log("");
  const mark = (t: ToolResult): string => (complete(t) ? "" : " (INCOMPLETE: not comparable)");
  const sm = results.find((t) => t.peer.name === "sigmirror");
  log(`ratios: settled run, requests (all hosts): ${results.map((t) => `${t.peer.name} ${t.runs.at(-1) === undefined ? "?" : totalRequests(t.runs.at(-1) as RunFigures)}${mark(t)}`).join("; ")}`);
  log(`ratios: cold run, requests to mirrors per object copied (${copies} objects x 3 mirrors = ${copies * 3}): ${results.map((t) => `${t.peer.name} ${ratio(t.runs[0] === undefined ? 0 : mirrorRequests(t.runs[0]), copies * 3)}${mark(t)}`).join("; ")}`);
  const coldWall = (t: ToolResult): number => t.runs[0]?.r.run.time?.seconds ?? Number.NaN;
  const peers = results.filter((t) => t !== sm && complete(t)).sort((a, b) => coldWall(a) - coldWall(b));
  const fastest = peers[0];
  if (sm !== undefined && fastest !== undefined) {
    log(`ratios: cold wall time, sigmirror ${coldWall(sm).toFixed(2)} s vs the fastest complete peer, ${fastest.peer.name} ${coldWall(fastest).toFixed(2)} s: ${ratio(coldWall(sm), coldWall(fastest))}`);
  } else {
    log(`ratios: cold wall time: no complete peer to compare sigmirror (${sm === undefined ? "?" : coldWall(sm).toFixed(2)} s) with`);
  }
  printDay(log, results.map((t) => t.day));
  log("");
  log("tools as run (DIR = the tool's scratch directory):");
  for (const t of results) log(`  ${t.peer.name}: ${t.peer.setup}\n         ${t.runs[0]?.r.command ?? ""}`);
  log(`reproduce with: make build && scripts/install-go-tools.sh && env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy BENCH_IMAGES=${IMAGES} BENCH_DAY_RUNS=${DAY_RUNS}${only.length > 0 ? ` BENCH_TOOLS=${only.join(",")}` : ""} node_modules/.bin/bun bench/peers.ts`);
} finally {
  await primary.stop();
  rmSync(dir, { recursive: true, force: true });
  if (snapshot !== "") rmSync(snapshot, { recursive: true, force: true });
}
