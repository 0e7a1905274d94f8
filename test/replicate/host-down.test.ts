// One mirror down (a stopped registry: connections refused) and one answering 503 to everything
// (a fault proxy in front of a live registry): both are given up after a bounded number of
// attempts, the healthy mirror is completed, exit 1, the report names the hosts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startFaultProxy, type FaultProxy, type TestRegistry } from "../harness/index.ts";
import { sigmirror, type CliResult } from "../lib/cli.ts";
import { startScenario, writeThinManifests, type Scenario } from "../lib/scenario.ts";
import { falseClaims, hostOf, ledgerClaims, readReport, replicationGaps, type ReportJson } from "./lib.ts";

// The engine gives a host up after 5 consecutive failed requests; each request is tried 6 times
// (the client's default); 8 in flight per host (the default). Until the 5th failure every freed
// slot may start one more request: at most 8 + 4 requests ever start on a failing host.
const giveUpAfter = 5;
const attemptsPerRequest = 6;
const concurrency = 8;
const maxAttempts = (concurrency + giveUpAfter - 1) * attemptsPerRequest;
const signed = 24;

describe("one mirror down", () => {
  let s: Scenario;
  let healthy: TestRegistry;
  let dead: TestRegistry;
  let failing: FaultProxy;
  let run: CliResult;
  let report: ReportJson;

  beforeAll(async () => {
    s = await startScenario({ mirrors: 3, signed, unsigned: 0, indexes: 0 });
    const [m0, m1, m2] = s.mirrors;
    if (m0 === undefined || m1 === undefined || m2 === undefined) throw new Error("scenario: 3 mirrors");
    healthy = m0;
    dead = m1;
    failing = await startFaultProxy({ upstream: m2.url, rules: [{ status5xx: { p: 1, status: 503 } }] });
    await dead.stop();
    const thinDir = join(s.dir, "manifests-down");
    writeThinManifests(
      thinDir,
      [s.primary.host, healthy.host, dead.host, failing.host],
      s.images.map((i) => ({ name: i.name, digest: i.image.digest, tag: "v1" })),
    );
    const reportFile = join(s.dir, "down.json");
    run = await sigmirror(["replicate", "--thin-manifest-dir", thinDir, "--primary", s.primary.host, "--ledger", s.ledger, "--report", reportFile]);
    report = readReport(reportFile);
  }, 120_000);

  afterAll(async () => {
    await failing?.stop();
    await s?.stop();
  });

  test("exit 1; the healthy mirror holds every signature", async () => {
    expect(run.code).toBe(1);
    expect(await replicationGaps(s, [healthy])).toEqual([]);
    expect(hostOf(report, healthy.host).copied).toBe(signed);
    expect(hostOf(report, healthy.host).failed).toBe(0);
  });

  test("the report and stderr name both failing hosts as given up", () => {
    for (const host of [dead.host, failing.host]) {
      const h = hostOf(report, host);
      expect(h.givenUp).toBeString();
      expect(h.copied).toBe(0);
      expect(h.failed).toBe(signed);
      expect(report.failures.filter((f) => f.host === host)).toHaveLength(signed);
      expect(run.err).toContain(`giving up on ${host} for this run`);
      expect(run.err).toMatch(new RegExp(`${host.replaceAll(".", "\\.")} \\(mirror\\).*GIVEN UP`));
    }
    expect(report.failed).toBe(2 * signed);
    expect(run.err).toContain("exit 1");
  });

  test("a failing host costs a bounded number of attempts, not one chain per pair", () => {
    // Without giving up it would be signed x attemptsPerRequest (144) on each.
    expect(maxAttempts).toBeLessThan(signed * attemptsPerRequest);
    const seenByProxy = failing.records().length;
    expect(seenByProxy).toBeGreaterThanOrEqual(giveUpAfter * attemptsPerRequest);
    expect(seenByProxy).toBeLessThanOrEqual(maxAttempts);
    expect(hostOf(report, failing.host).requests).toBe(seenByProxy);
    const refused = hostOf(report, dead.host).requests;
    expect(refused).toBeGreaterThanOrEqual(giveUpAfter * attemptsPerRequest);
    expect(refused).toBeLessThanOrEqual(maxAttempts);
  });

  test("the ledger claims the healthy mirror's pairs only, each of them true", async () => {
    const claims = ledgerClaims(s.ledger);
    expect(claims.filter((c) => c.mirror === healthy.host)).toHaveLength(signed);
    expect(claims.filter((c) => c.mirror !== healthy.host)).toEqual([]);
    expect(await falseClaims(s.ledger, [healthy])).toEqual([]);
  });
});
