// Registries that misbehave, end to end. Two runs that spend their time waiting (retry backoff,
// Retry-After pauses), started together in beforeAll so that the file takes the longer of the two:
// - one mirror down (a stopped registry: connections refused) and one answering 503 to
//   everything: both given up after a bounded number of attempts, the healthy mirror completed,
//   exit 1, the report names the hosts;
// - the fault bar of issue 4: every host behind a proxy answering 15% 429 (Retry-After: 1), 5%
//   503 and 3% resets: every copy lands, exit 0, no host saw more than its --rate in any 1 s
//   window, nothing arrived during a Retry-After, the digests at the targets are the primary's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  peakPerWindow,
  startFaultProxy,
  violationsOfRetryAfter,
  type FaultProxy,
  type FaultRule,
  type ProxyRequestRecord,
  type TestRegistry,
} from "../harness/index.ts";
import { sigmirror, type CliResult } from "../lib/cli.ts";
import { startScenario, writeThinManifests, type Scenario } from "../lib/scenario.ts";
import { falseClaims, hostOf, ledgerClaims, readReport, replicationGaps, signedSubjects, type ReportJson } from "./lib.ts";

// --- one mirror down ------------------------------------------------------------------------

// The engine gives a host up after 5 consecutive failed requests; each request is tried 6 times
// (the client's default); 8 in flight per host (the default). Until the 5th failure every freed
// slot may start one more request: at most 8 + 4 requests ever start on a failing host.
const giveUpAfter = 5;
const attemptsPerRequest = 6;
const concurrency = 8;
const maxAttempts = (concurrency + giveUpAfter - 1) * attemptsPerRequest;
const downSigned = 24;

interface Down {
  readonly s: Scenario;
  readonly healthy: TestRegistry;
  readonly dead: TestRegistry;
  readonly failing: FaultProxy;
  readonly run: CliResult;
  readonly report: ReportJson;
  stop(): Promise<void>;
}

async function oneMirrorDown(): Promise<Down> {
  const s = await startScenario({ mirrors: 3, signed: downSigned, unsigned: 0, indexes: 0 });
  let failing: FaultProxy | undefined;
  const stop = async () => {
    await failing?.stop();
    await s.stop();
  };
  try {
    const [healthy, dead, m2] = s.mirrors;
    if (healthy === undefined || dead === undefined || m2 === undefined) throw new Error("scenario: 3 mirrors");
    failing = await startFaultProxy({ upstream: m2.url, rules: [{ status5xx: { p: 1, status: 503 } }] });
    await dead.stop();
    const thinDir = join(s.dir, "manifests-down");
    writeThinManifests(
      thinDir,
      [s.primary.host, healthy.host, dead.host, failing.host],
      s.images.map((i) => ({ name: i.name, digest: i.image.digest, tag: "v1" })),
    );
    const reportFile = join(s.dir, "down.json");
    const run = await sigmirror(["replicate", "--thin-manifest-dir", thinDir, "--primary", s.primary.host, "--ledger", s.ledger, "--report", reportFile]);
    return { s, healthy, dead, failing, run, report: readReport(reportFile), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// --- the fault bar --------------------------------------------------------------------------

const storm: FaultRule[] = [{ status429: { p: 0.15, retryAfter: 1 }, status5xx: { p: 0.05, status: 503 }, reset: { p: 0.03 } }];
const primaryRate = 10;
const mirrorRate = 15;

interface Bar {
  readonly s: Scenario;
  readonly primary: FaultProxy;
  readonly mirrors: readonly FaultProxy[];
  readonly run: CliResult;
  readonly report: ReportJson;
  stop(): Promise<void>;
}

async function faultBar(): Promise<Bar> {
  const s = await startScenario({ mirrors: 2, signed: 3, unsigned: 1, indexes: 1 });
  const proxies: FaultProxy[] = [];
  const stop = async () => {
    for (const p of proxies) await p.stop();
    await s.stop();
  };
  try {
    for (const [i, reg] of [s.primary, ...s.mirrors].entries()) proxies.push(await startFaultProxy({ upstream: reg.url, rules: storm, seed: 4101 + i }));
    const [primary, ...mirrors] = proxies;
    if (primary === undefined) throw new Error("no proxies");
    const thinDir = join(s.dir, "manifests-proxied");
    writeThinManifests(
      thinDir,
      proxies.map((p) => p.host),
      s.images.map((i) => ({ name: i.name, digest: i.image.digest, tag: "v1" })),
    );
    const reportFile = join(s.dir, "storm.json");
    // One request in flight per host: then an arrival after a Retry-After answer went out was
    // sent after the client had it, and "nothing during a Retry-After" is exact, with no grace.
    const run = await sigmirror([
      "replicate", "--thin-manifest-dir", thinDir, "--primary", primary.host, "--ledger", s.ledger, "--report", reportFile,
      "--rate-default", String(mirrorRate), "--rate", `${primary.host}=${primaryRate}`, "--concurrency-default", "1",
    ]);
    return { s, primary, mirrors, run, report: readReport(reportFile), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Bun's fetch re-sends a GET, HEAD or PUT by itself 1-2 ms after a reused keep-alive connection
 * is reset, outside any limiter (registry-facts.md). The client does not reuse connections by
 * default, so there should be none; if there are, they are not the limiter's doing.
 */
function withoutBunResends(records: readonly ProxyRequestRecord[]): ProxyRequestRecord[] {
  const resets = records.filter((r) => r.status === "reset" && r.method !== "POST");
  return records.filter(
    (r) => !resets.some((x) => x !== r && x.method === r.method && x.path === r.path && r.arrivedAt > x.arrivedAt && r.arrivedAt - x.arrivedAt < 10),
  );
}

// --------------------------------------------------------------------------------------------

let down: Down;
let bar: Bar;
const started: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  const [d, b] = await Promise.allSettled([oneMirrorDown(), faultBar()]);
  for (const x of [d, b]) if (x.status === "fulfilled") started.push(x.value);
  if (d.status === "rejected") throw d.reason;
  if (b.status === "rejected") throw b.reason;
  [down, bar] = [d.value, b.value];
}, 180_000);

afterAll(async () => {
  for (const x of started) await x.stop();
});

describe("one mirror down, one answering 503", () => {
  test("exit 1; the healthy mirror holds every signature", async () => {
    expect(down.run.code).toBe(1);
    expect(await replicationGaps(down.s, [down.healthy])).toEqual([]);
    expect(hostOf(down.report, down.healthy.host).copied).toBe(downSigned);
    expect(hostOf(down.report, down.healthy.host).failed).toBe(0);
  });

  test("the report and stderr name both failing hosts as given up", () => {
    const { report, run } = down;
    for (const host of [down.dead.host, down.failing.host]) {
      const h = hostOf(report, host);
      expect(h.givenUp).toBeString();
      expect(h.copied).toBe(0);
      expect(h.failed).toBe(downSigned);
      expect(report.failures.filter((f) => f.host === host)).toHaveLength(downSigned);
      expect(run.err).toContain(`giving up on ${host} for this run`);
      expect(run.err).toMatch(new RegExp(`${host.replaceAll(".", "\\.")} \\(mirror\\).*GIVEN UP`));
    }
    expect(report.failed).toBe(2 * downSigned);
    expect(run.err).toContain("exit 1");
  });

  test("a failing host costs a bounded number of attempts, not one chain per pair", () => {
    // Without giving up it would be downSigned x attemptsPerRequest (144) on each.
    expect(maxAttempts).toBeLessThan(downSigned * attemptsPerRequest);
    const seenByProxy = down.failing.records().length;
    expect(seenByProxy).toBeGreaterThanOrEqual(giveUpAfter * attemptsPerRequest);
    expect(seenByProxy).toBeLessThanOrEqual(maxAttempts);
    expect(hostOf(down.report, down.failing.host).requests).toBe(seenByProxy);
    const refused = hostOf(down.report, down.dead.host).requests;
    expect(refused).toBeGreaterThanOrEqual(giveUpAfter * attemptsPerRequest);
    expect(refused).toBeLessThanOrEqual(maxAttempts);
  });

  test("the ledger claims the healthy mirror's pairs only, each of them true", async () => {
    const claims = ledgerClaims(down.s.ledger);
    expect(claims.filter((c) => c.mirror === down.healthy.host)).toHaveLength(downSigned);
    expect(claims.filter((c) => c.mirror !== down.healthy.host)).toEqual([]);
    expect(await falseClaims(down.s.ledger, [down.healthy])).toEqual([]);
  });
});

describe("the fault bar: 15% 429 (Retry-After: 1), 5% 503, 3% resets on every host", () => {
  test("every copy completes, exit 0, digests identical at the targets", async () => {
    expect(bar.run.code).toBe(0);
    expect(bar.report.failed).toBe(0);
    expect(bar.report.copied).toBe(signedSubjects(bar.s.images).length * bar.s.mirrors.length);
    expect(await replicationGaps(bar.s, bar.s.mirrors)).toEqual([]);
  });

  test("the storm happened on every host, and the report counts what the proxies answered", () => {
    for (const p of [bar.primary, ...bar.mirrors]) {
      const recs = p.records();
      const n429 = recs.filter((r) => r.status === 429).length;
      expect(n429).toBeGreaterThan(0);
      expect(hostOf(bar.report, p.host).status429).toBe(n429);
      expect(hostOf(bar.report, p.host).requests).toBe(recs.length);
      expect(hostOf(bar.report, p.host).retries).toBeGreaterThan(0);
    }
    const all = [bar.primary, ...bar.mirrors].flatMap((p) => p.records());
    expect(all.some((r) => r.status === 503)).toBe(true);
    expect(all.some((r) => r.status === "reset")).toBe(true);
  });

  test("no host saw more than its --rate in any 1 s window", () => {
    const primary = peakPerWindow(withoutBunResends(bar.primary.records()), 1000);
    expect(primary).toBeGreaterThan(1);
    expect(primary).toBeLessThanOrEqual(primaryRate);
    for (const m of bar.mirrors) expect(peakPerWindow(withoutBunResends(m.records()), 1000)).toBeLessThanOrEqual(mirrorRate);
  });

  test("nothing arrived at a host during a Retry-After it had sent", () => {
    for (const p of [bar.primary, ...bar.mirrors]) {
      expect(p.records().some((r) => r.retryAfterUntil !== undefined)).toBe(true);
      expect(violationsOfRetryAfter(withoutBunResends(p.records()))).toEqual([]);
    }
  });
});
