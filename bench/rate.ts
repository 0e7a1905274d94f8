// Does a cold run use its whole rate budget? (issue 11, section 2.) For each R, a fresh primary + 3
// mirrors (distribution 2.8, loopback), every image on every host, `.sig` signatures and one
// provenance attestation referrer per image on the primary only; then one cold
// `sigmirror replicate --rate-default R` with a fresh ledger. Each registry sits behind the fault
// proxy with no rules, used as a pass-through that timestamps every request (the thin manifests
// name the proxies, so no request bypasses them). Per host: requests, first and last request after
// the process start, peak per 1 s window, and the mean rate over [start, last request] as a share
// of R: a mirror idle at the start (waiting on the primary's manifest reads) or throttled below R
// shows up there. Target: every mirror >= 0.93 R, no host above R in any 1 s window, every
// mirror's first request within 0.5 s of the start.
// Env: BENCH_RATES (default "20,50,100"), BENCH_IMAGES (default 150), SIGMIRROR_BIN (binary).
// Reproduce: make build && env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u NO_PROXY -u no_proxy node_modules/.bin/bun bench/rate.ts
import { loadavg } from "node:os";
import { join } from "node:path";
import { startFaultProxy, type AccessEntry, type FaultProxy, type ProxyRequestRecord } from "../test/harness/index.ts";
import { writeThinManifests } from "../test/lib/scenario.ts";
import { expectExit, pad, runSigmirror, shellLine, sigmirrorBinary } from "./lib-cli.ts";
import { kindOf, Promotion, type NewImage } from "./lib-promotion.ts";

const MIRRORS = 3;
// More repositories than the 16 the primary used to read up front would not show the late start
// as clearly; a dozen-plus keeps per-repository batching realistic while spreading the work.
const REPOSITORIES = [
  "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "coredns", "etcd", "pause",
  "metrics-server", "kube-state-metrics", "cluster-autoscaler", "ingress-nginx", "external-dns", "csi-provisioner",
  "csi-attacher", "node-problem-detector",
];
const TARGET_SHARE = 0.93;
const FIRST_WITHIN_S = 0.5;

function numbers(env: string | undefined, fallback: readonly number[]): number[] {
  if (env === undefined || env.trim() === "") return [...fallback];
  const out = env.split(",").map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`bench: bad number list ${JSON.stringify(env)}`);
  return out;
}

const rates = numbers(process.env["BENCH_RATES"], [20, 50, 100]);
const images = numbers(process.env["BENCH_IMAGES"], [150])[0] ?? 150;
if (images < REPOSITORIES.length) throw new Error(`bench: BENCH_IMAGES must be >= ${REPOSITORIES.length} (one per repository at least)`);

/** Images spread round-robin over the repositories; one multi-arch index in every fifth repository. */
function plan(n: number): NewImage[] {
  const out: NewImage[] = [];
  for (let i = 0; i < n; i++) {
    const r = i % REPOSITORIES.length;
    const v = Math.floor(i / REPOSITORIES.length);
    out.push({ name: REPOSITORIES[r] ?? "x", tag: `v1.${r}.${v}`, index: v === 0 && r % 5 === 0 });
  }
  return out;
}

interface HostFigures {
  readonly label: string;
  readonly requests: number;
  /** Seconds after the process start: first request, first request other than the /v2/ ping, last request. */
  readonly first: number;
  readonly firstWork: number;
  readonly last: number;
  readonly peak: number;
  /** Where the busiest 1 s window starts (s after the start), and the busiest 5 s window's count / 5. */
  readonly peakAt: number;
  readonly peak5: number;
  /** requests / (last - start), as a share of R. */
  readonly share: number;
  readonly kinds: string;
}

interface RateRun {
  readonly rate: number;
  readonly images: number;
  readonly subjects: number;
  readonly setupS: number;
  readonly wallS: number;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly primary: HostFigures;
  readonly mirrors: readonly HostFigures[];
  readonly timeline: readonly string[];
  /** Primary requests that arrived before the first mirror request: what the mirrors waited for, whatever the machine's load. */
  readonly primaryBeforeMirrors: number;
}

/** Request kinds as bench/requests.ts counts them, plus the OCI 1.1 referrers API (kindOf's "other"). */
function kindsOf(recs: readonly ProxyRequestRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of recs) {
    // kindOf reads only method and path, which the proxy records too; the rest is filler.
    const entry: AccessEntry = { method: r.method, path: r.path, status: 0, time: r.arrivedAt, bytes: 0, userAgent: "" };
    const k = /\/referrers\//.test(r.path) ? "referrers API" : kindOf(entry);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ");
}

/** The busiest window [t, t + ms): its count (as peakPerWindow counts) and t. */
function busiest(sortedTimes: readonly number[], ms: number): { count: number; at: number } {
  let best = { count: 0, at: NaN };
  for (let i = 0, j = 0; i < sortedTimes.length; i++) {
    const t = sortedTimes[i] ?? 0;
    while (j < sortedTimes.length && (sortedTimes[j] ?? Infinity) < t + ms) j++;
    if (j - i > best.count) best = { count: j - i, at: t };
  }
  return best;
}

const now = (): number => performance.timeOrigin + performance.now();

function figures(label: string, proxy: FaultProxy, start: number, rate: number): HostFigures {
  const recs: ProxyRequestRecord[] = proxy.records();
  const times = recs.map((r) => (r.arrivedAt - start) / 1000).sort((a, b) => a - b);
  const work = recs.filter((r) => !/^\/v2\/?(\?|$)/.test(r.path)).map((r) => (r.arrivedAt - start) / 1000);
  const last = times.at(-1) ?? NaN;
  const arrivals = recs.map((r) => r.arrivedAt).sort((a, b) => a - b);
  const one = busiest(arrivals, 1000);
  const kinds = kindsOf(recs);
  return {
    label,
    requests: recs.length,
    first: times[0] ?? NaN,
    firstWork: work.length === 0 ? NaN : Math.min(...work),
    last,
    peak: proxy.peakPerWindow(1000),
    peakAt: (one.at - start) / 1000,
    // Arrivals are stamped when this process parses the request head, so a busy machine can bunch
    // a few into one 1 s window; a 5 s window shows whether the sustained rate passed R too.
    peak5: busiest(arrivals, 5000).count / 5,
    share: recs.length / last / rate,
    kinds,
  };
}

/** BENCH_TIMELINE=N: the first N requests over every host, with when each arrived and was answered. */
const timelineLength = numbers(process.env["BENCH_TIMELINE"], [0])[0] ?? 0;

function firstRequests(hosts: readonly (readonly [string, readonly ProxyRequestRecord[]])[], start: number): string[] {
  const all = hosts.flatMap(([label, recs]) => recs.map((r) => ({ label, r })));
  all.sort((a, b) => a.r.arrivedAt - b.r.arrivedAt);
  return all.slice(0, timelineLength).map(({ label, r }) => {
    const answered = r.respondedAt === undefined ? "-" : s((r.respondedAt - start) / 1000, 3);
    return `${pad(s((r.arrivedAt - start) / 1000, 3), 7)} -> ${pad(answered, 7)} ${label.padEnd(8)} ${r.method} ${r.path}`;
  });
}

async function runAt(binary: string, rate: number): Promise<RateRun> {
  const p = await Promotion.start(MIRRORS, { attest: true });
  const proxies: FaultProxy[] = [];
  try {
    const t0 = performance.now();
    await p.add(plan(images));
    for (const r of p.all) proxies.push(await startFaultProxy({ upstream: r.url }));
    // The thin manifests name the proxies, not the registries: every request the run sends is seen.
    writeThinManifests(p.thinDir, proxies.map((x) => x.host), p.images.map((i) => ({ name: i.name, digest: i.digest, tag: i.tag })));
    const setupS = (performance.now() - t0) / 1000;
    const primaryProxy = proxies[0];
    if (primaryProxy === undefined) throw new Error("bench: no primary proxy");
    const args = ["replicate", "--thin-manifest-dir", p.thinDir, "--primary", primaryProxy.host, "--ledger", join(p.dir, "state.db"), "--rate-default", String(rate)];
    // Let the setup's own load fade a little so the load average beside the figure is about the run.
    await Bun.sleep(1000);
    for (const x of proxies) x.clear();
    const loadBefore = loadavg();
    const start = now();
    const run = await runSigmirror(binary, args);
    const loadAfter = loadavg();
    expectExit(`rate ${rate}`, run);
    const [primary, ...mirrors] = proxies.map((x, i) => figures(i === 0 ? "primary" : `mirror${i}`, x, start, rate));
    if (primary === undefined) throw new Error("bench: no primary figures");
    const timeline = firstRequests(proxies.map((x, i) => [i === 0 ? "primary" : `mirror${i}`, x.records()]), start);
    const firstMirror = Math.min(...proxies.slice(1).flatMap((x) => x.records().map((r) => r.arrivedAt)));
    const primaryBeforeMirrors = primaryProxy.records().filter((r) => r.arrivedAt < firstMirror).length;
    return { rate, images: p.images.length, subjects: p.subjectCount, setupS, wallS: run.ms / 1000, loadBefore, loadAfter, primary, mirrors, timeline, primaryBeforeMirrors };
  } finally {
    for (const x of proxies) await x.stop();
    await p.stop();
  }
}

const s = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : "-");
const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(" ");

function print(r: RateRun): void {
  console.log(
    `rate: R=${r.rate}: ${r.images} images (${r.subjects} signed subjects) in ${REPOSITORIES.length} repositories, set up in ${s(r.setupS, 1)} s; ` +
      `wall ${s(r.wallS)} s; load average (1/5/15 min) before ${load(r.loadBefore)}, after ${load(r.loadAfter)}`,
  );
  console.log(
    `rate:   ${"host".padEnd(8)} ${pad("requests", 8)} ${pad("first s", 7)} ${pad("work s", 7)} ${pad("last s", 7)} ${pad("idle %", 6)} ${pad("peak/1s", 7)} ${pad("at s", 7)} ${pad("peak/5s", 7)} ${pad("mean/s", 7)} ${pad("mean/R", 6)}`,
  );
  for (const h of [r.primary, ...r.mirrors]) {
    console.log(
      `rate:   ${h.label.padEnd(8)} ${pad(h.requests, 8)} ${pad(s(h.first), 7)} ${pad(s(h.firstWork), 7)} ${pad(s(h.last), 7)} ` +
        `${pad(s((100 * h.first) / h.last, 1), 6)} ${pad(h.peak, 7)} ${pad(s(h.peakAt), 7)} ${pad(s(h.peak5, 1), 7)} ${pad(s(h.requests / h.last, 1), 7)} ${pad(s(h.share, 3), 6)}`,
    );
  }
  console.log(`rate:   kinds: primary: ${r.primary.kinds}`);
  for (const m of r.mirrors) console.log(`rate:   kinds: ${m.label}: ${m.kinds}`);
  console.log(`rate:   primary requests before the first mirror request: ${r.primaryBeforeMirrors}`);
  if (r.timeline.length > 0) console.log(`rate:   the first ${r.timeline.length} requests (arrived -> answered, s after the start):`);
  for (const line of r.timeline) console.log(`rate:     ${line}`);
  const minShare = Math.min(...r.mirrors.map((m) => m.share));
  const maxPeak = Math.max(...[r.primary, ...r.mirrors].map((h) => h.peak));
  const lastFirst = Math.max(...r.mirrors.map((m) => m.first));
  const lastFirstWork = Math.max(...r.mirrors.map((m) => m.firstWork));
  const shareOk = minShare >= TARGET_SHARE;
  const peakOk = maxPeak <= r.rate;
  const firstOk = lastFirst <= FIRST_WITHIN_S;
  console.log(
    `rate: target: R=${r.rate}: each mirror mean >= ${TARGET_SHARE} R (lowest ${s(minShare, 3)}): ${shareOk ? "met" : "missed"}; ` +
      `peak <= ${r.rate} on every host (highest ${maxPeak}): ${peakOk ? "met" : "missed"}; ` +
      `first mirror request <= ${FIRST_WITHIN_S} s (latest ${s(lastFirst)} s; first beyond the ping ${s(lastFirstWork)} s): ${firstOk ? "met" : "missed"}; ` +
      `overall ${shareOk && peakOk && firstOk ? "met" : "missed"}`,
  );
}

const binary = sigmirrorBinary();
console.log(
  `rate: cold runs, primary + ${MIRRORS} mirrors (distribution 2.8, anonymous, loopback, each behind a pass-through proxy), ` +
    `every image signed (.sig) with one attestation referrer, rates ${rates.join(", ")}; binary ${binary}; ` +
    `times are seconds after the process start; mean = requests / last request; idle % = first request / last request; ` +
    `peak/1s = most requests in any 1 s window (starting at "at s"), peak/5s = most in any 5 s window / 5`,
);
const t = performance.now();
for (const rate of rates) print(await runAt(binary, rate));
console.log(`rate: total bench time ${s((performance.now() - t) / 1000, 1)} s`);
console.log(`rate: reproduce with: make build && BENCH_RATES=${rates.join(",")} BENCH_IMAGES=${images} env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u NO_PROXY -u no_proxy node_modules/.bin/bun bench/rate.ts`);
console.log(
  `rate:   each run: ${shellLine(["dist/sigmirror", "replicate", "--thin-manifest-dir", "DIR/manifests", "--primary", "PRIMARY-PROXY", "--ledger", "DIR/state.db", "--rate-default", "R"])}`,
);
