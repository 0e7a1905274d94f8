// SIGTERM (and Prow's SIGINT-then-SIGTERM) during a run: start nothing new, let what is in flight
// finish, commit, print the summary, exit 143 (130). The rerun skips what was committed.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, type Scenario } from "../lib/scenario.ts";
import { falseClaims, ledgerClaims, readReport, replicationGaps, signedSubjects, startSigmirror } from "./lib.ts";

const copiedLine = /sigmirror: copied /g;

describe("signals during a run", () => {
  let s: Scenario;
  let pairs: number;
  beforeEach(async () => {
    s = await startScenario({ mirrors: 2, signed: 8, unsigned: 1, indexes: 1 });
    pairs = signedSubjects(s.images).length * s.mirrors.length;
  }, 60_000);
  afterEach(async () => {
    await s?.stop();
  });

  /** A slow cold run, signalled after a few copies; returns what it printed and reported. */
  async function interrupted(send: (pid: number) => Promise<void>) {
    const reportFile = join(s.dir, "interrupted.json");
    const run = startSigmirror(
      s.args("replicate", "--rate-default", "10", "--rate", `${s.primary.host}=50`, "--concurrency-default", "2", "--report", reportFile),
    );
    try {
      await run.waitForErr(copiedLine, 3);
      await send(run.proc.pid);
      const r = await run.done;
      return { ...r, report: readReport(reportFile), copied: (r.err.match(copiedLine) ?? []).length };
    } finally {
      run.kill();
    }
  }

  async function expectCommittedAndResumable(copied: number): Promise<void> {
    const claims = ledgerClaims(s.ledger);
    expect(claims.length).toBeGreaterThanOrEqual(copied);
    expect(claims.length).toBeLessThan(pairs);
    expect(await falseClaims(s.ledger, s.mirrors)).toEqual([]);

    await s.clearLogs();
    const reportFile = join(s.dir, "rerun.json");
    const rerun = await sigmirror(s.args("replicate", "--report", reportFile));
    expect(rerun.code).toBe(0);
    // The committed pairs cost the rerun nothing: not checked, no request about their tags.
    expect(readReport(reportFile).pairsChecked).toBe(pairs - claims.length);
    for (const m of s.mirrors) {
      const paths = (await m.accessLog()).map((e) => e.path);
      for (const c of claims.filter((x) => x.mirror === m.host)) {
        expect(paths.filter((p) => p.includes(c.tag))).toEqual([]);
      }
    }
    expect(await replicationGaps(s, s.mirrors)).toEqual([]);
  }

  test("SIGTERM: exit 143, summary printed, nothing failed, ledger committed; the rerun needs fewer requests", async () => {
    const r = await interrupted(async (pid) => void process.kill(pid, "SIGTERM"));
    expect(r.code).toBe(143);
    expect(r.err).toContain("interrupted by SIGTERM, exit 143");
    expect(r.err).toMatch(/replicate: pairs checked \d+, copied \d+/);
    expect(r.report.interrupted).toBe("SIGTERM");
    expect(r.report.exitCode).toBe(143);
    // Work in flight finished or was not started: an interruption is not a registry failure.
    expect(r.report.failures).toEqual([]);
    expect(r.report.copied).toBe(r.copied);
    await expectCommittedAndResumable(r.copied);
  }, 60_000);

  test("SIGINT then SIGTERM right after (Prow's entrypoint): still commits, exit 130", async () => {
    const r = await interrupted(async (pid) => {
      process.kill(pid, "SIGINT");
      await Bun.sleep(2);
      process.kill(pid, "SIGTERM");
    });
    expect(r.code).toBe(130);
    expect(r.err).toContain("interrupted by SIGINT, exit 130");
    expect(r.report.interrupted).toBe("SIGINT");
    expect(r.report.failures).toEqual([]);
    await expectCommittedAndResumable(r.copied);
  }, 60_000);
});
