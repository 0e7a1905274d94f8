// The fault bar of issue 4, end to end: every registry (primary and mirrors) behind its own fault
// proxy answering 15% 429 (Retry-After: 1), 5% 503 and 3% connection resets. A replication run
// completes every copy and exits 0; from the proxies' records: no host ever saw more than its
// --rate in any 1 s window, nothing arrived during a Retry-After; the digests at the targets are
// the primary's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  peakPerWindow,
  startFaultProxy,
  violationsOfRetryAfter,
  type FaultProxy,
  type FaultRule,
  type ProxyRequestRecord,
} from "../harness/index.ts";
import { sigmirror, type CliResult } from "../lib/cli.ts";
import { startScenario, writeThinManifests, type Scenario } from "../lib/scenario.ts";
import { hostOf, readReport, replicationGaps, signedSubjects, type ReportJson } from "./lib.ts";

const storm: FaultRule[] = [{ status429: { p: 0.15, retryAfter: 1 }, status5xx: { p: 0.05, status: 503 }, reset: { p: 0.03 } }];
const primaryRate = 10;
const mirrorRate = 15;

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

describe("the fault bar: 15% 429 (Retry-After: 1), 5% 503, 3% resets on every host", () => {
  let s: Scenario;
  let primary: FaultProxy;
  let mirrors: FaultProxy[];
  let run: CliResult;
  let report: ReportJson;

  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed: 3, unsigned: 1, indexes: 1 });
    primary = await startFaultProxy({ upstream: s.primary.url, rules: storm, seed: 4101 });
    mirrors = [];
    for (const [i, m] of s.mirrors.entries()) mirrors.push(await startFaultProxy({ upstream: m.url, rules: storm, seed: 4102 + i }));
    const thinDir = join(s.dir, "manifests-proxied");
    writeThinManifests(
      thinDir,
      [primary, ...mirrors].map((p) => p.host),
      s.images.map((i) => ({ name: i.name, digest: i.image.digest, tag: "v1" })),
    );
    const reportFile = join(s.dir, "storm.json");
    // One request in flight per host: then an arrival after a Retry-After answer went out was
    // sent after the client had it, and "nothing during a Retry-After" is exact, with no grace.
    run = await sigmirror([
      "replicate", "--thin-manifest-dir", thinDir, "--primary", primary.host, "--ledger", s.ledger, "--report", reportFile,
      "--rate-default", String(mirrorRate), "--rate", `${primary.host}=${primaryRate}`, "--concurrency-default", "1",
    ]);
    report = readReport(reportFile);
  }, 120_000);

  afterAll(async () => {
    for (const p of [primary, ...(mirrors ?? [])]) await p?.stop();
    await s?.stop();
  });

  test("every copy completes, exit 0, digests identical at the targets", async () => {
    expect(run.code).toBe(0);
    expect(report.failed).toBe(0);
    expect(report.copied).toBe(signedSubjects(s.images).length * s.mirrors.length);
    expect(await replicationGaps(s, s.mirrors)).toEqual([]);
  });

  test("the storm happened on every host, and the report counts what the proxies answered", () => {
    for (const p of [primary, ...mirrors]) {
      const recs = p.records();
      const n429 = recs.filter((r) => r.status === 429).length;
      expect(n429).toBeGreaterThan(0);
      expect(hostOf(report, p.host).status429).toBe(n429);
      expect(hostOf(report, p.host).requests).toBe(recs.length);
      expect(hostOf(report, p.host).retries).toBeGreaterThan(0);
    }
    const all = [primary, ...mirrors].flatMap((p) => p.records());
    expect(all.some((r) => r.status === 503)).toBe(true);
    expect(all.some((r) => r.status === "reset")).toBe(true);
  });

  test("no host saw more than its --rate in any 1 s window", () => {
    expect(peakPerWindow(withoutBunResends(primary.records()), 1000)).toBeGreaterThan(1);
    expect(peakPerWindow(withoutBunResends(primary.records()), 1000)).toBeLessThanOrEqual(primaryRate);
    for (const m of mirrors) expect(peakPerWindow(withoutBunResends(m.records()), 1000)).toBeLessThanOrEqual(mirrorRate);
  });

  test("nothing arrived at a host during a Retry-After it had sent", () => {
    for (const p of [primary, ...mirrors]) {
      expect(p.records().some((r) => r.retryAfterUntil !== undefined)).toBe(true);
      expect(violationsOfRetryAfter(withoutBunResends(p.records()))).toEqual([]);
    }
  });
});
