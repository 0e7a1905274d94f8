// kill -9 in the middle of a slow cold run: the ledger it leaves opens, claims nothing the
// registries do not hold, keeps what an earlier run committed, and a rerun makes everything right.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, type Scenario } from "../lib/scenario.ts";
import { falseClaims, ledgerClaims, readReport, replicationGaps, signedSubjects, startSigmirror } from "./lib.ts";

describe("kill -9 in the middle of a cold run", () => {
  let s: Scenario;
  let pairs: number;
  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed: 12, unsigned: 1, indexes: 1 });
    pairs = signedSubjects(s.images).length * s.mirrors.length;
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  test("the ledger left behind claims only what is on the registries; a rerun completes", async () => {
    // An earlier, scoped run commits a few pairs, so the killed run's ledger has claims to keep.
    const early = await sigmirror(s.args("replicate", "--only-repository", "prod/signed-0", "--only-repository", "prod/signed-2"));
    expect(early.code).toBe(0);
    const committed = ledgerClaims(s.ledger);
    expect(committed).toHaveLength(2 * s.mirrors.length);

    // Lookups first, then ~7 requests per copy, 2 at a time, at 10/s per mirror: ~12 s for the whole run.
    const slow = startSigmirror(s.args("replicate", "--rate-default", "10", "--concurrency-default", "2", "--rate", `${s.primary.host}=20`));
    try {
      await slow.waitForErr(/sigmirror: copied /, 3, 60_000);
      slow.proc.kill("SIGKILL");
      const r = await slow.done;
      expect(r.code).not.toBe(0);
      expect(slow.proc.signalCode).toBe("SIGKILL");
      expect(r.err).not.toContain("replicate: wall"); // it died before its summary
    } finally {
      slow.kill();
    }
    const copiedBeforeKill = (slow.err().match(/sigmirror: copied /g) ?? []).length;
    expect(copiedBeforeKill).toBeLessThan(pairs - committed.length);

    // The ledger opens read-only (as `ledger stats` does) and every claim is true.
    const afterKill = ledgerClaims(s.ledger);
    expect(afterKill.length).toBeGreaterThanOrEqual(committed.length);
    for (const c of committed) expect(afterKill).toContainEqual(c);
    expect(await falseClaims(s.ledger, s.mirrors)).toEqual([]);
    const stats = await sigmirror(["ledger", "stats", "--ledger", s.ledger]);
    expect(stats.code).toBe(0);

    // The rerun takes the lock the dead process held, finds the copies it made, copies the rest.
    const reportFile = join(s.dir, "rerun.json");
    const rerun = await sigmirror(s.args("replicate", "--report", reportFile));
    expect(rerun.code).toBe(0);
    expect(await replicationGaps(s, s.mirrors)).toEqual([]);
    const report = readReport(reportFile);
    expect(report.failed).toBe(0);
    expect(report.alreadyThere).toBeGreaterThanOrEqual(copiedBeforeKill);
    expect(report.copied + report.alreadyThere).toBe(pairs - afterKill.length);
    expect(ledgerClaims(s.ledger)).toHaveLength(pairs);
    expect(await falseClaims(s.ledger, s.mirrors)).toEqual([]);
  }, 120_000);
});
