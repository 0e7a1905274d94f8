// A mirror that answers every request after 35 s, beside a healthy one: --max-duration bounds the
// whole run (D + wind-down), the mirror that never answered is failed, and the healthy mirror's
// copies are committed whether or not a deadline is given (flushes by time, inside a repository).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { startFaultProxy, type FaultProxy, type TestRegistry } from "../harness/index.ts";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, writeThinManifests, type Scenario } from "../lib/scenario.ts";
import { hostOf, ledgerClaims, readReport, startSigmirror } from "./lib.ts";

const signed = 6;
const maxDurationS = 4;
const windDownS = 6;

describe("a mirror that answers after 35 s", () => {
  let s: Scenario;
  let healthy: TestRegistry;
  let slow: FaultProxy;
  let thinDir: string;
  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed, unsigned: 0, indexes: 0 });
    const [h, m2] = s.mirrors;
    if (h === undefined || m2 === undefined) throw new Error("scenario: 2 mirrors");
    healthy = h;
    slow = await startFaultProxy({ upstream: m2.url, rules: [{ latencyMs: 35_000 }] });
    thinDir = join(s.dir, "manifests-slow");
    writeThinManifests(
      thinDir,
      [s.primary.host, healthy.host, slow.host],
      s.images.map((i) => ({ name: i.name, digest: i.image.digest, tag: "v1" })),
    );
  }, 60_000);
  afterAll(async () => {
    await slow?.stop();
    await s?.stop();
  });

  const args = (ledger: string, ...extra: string[]) => ["replicate", "--thin-manifest-dir", thinDir, "--primary", s.primary.host, "--ledger", ledger, ...extra];

  // First: it needs the healthy mirror still empty, to see the copies happen.
  test("without a deadline, the healthy mirror's copies are committed within seconds while the other hangs (kill -9 keeps them)", async () => {
    const ledger = join(s.dir, "hang.db");
    const run = startSigmirror(args(ledger));
    try {
      await run.waitForErr(new RegExp(`copied .* to ${healthy.host.replace(/\./g, "\\.")}`), signed, 30_000);
      // The flush cadence is 5 s on the run's clock, looked at every second.
      await Bun.sleep(7_000);
      run.proc.kill("SIGKILL");
      await run.done;
    } finally {
      run.kill();
    }
    const claims = ledgerClaims(ledger);
    expect(claims.filter((c) => c.mirror === healthy.host)).toHaveLength(signed);
    expect(claims.filter((c) => c.mirror === slow.host)).toEqual([]);
  }, 60_000);

  test("--max-duration 4s --wind-down 6s: the run ends by D + W, the silent mirror is failed (exit 1, JUnit), the healthy one's copies are kept", async () => {
    const reportFile = join(s.dir, "deadline.json");
    const junitFile = join(s.dir, "junit.xml");
    const ledger = join(s.dir, "deadline.db");
    const started = performance.now();
    const r = await sigmirror(args(ledger, "--max-duration", `${maxDurationS}s`, "--wind-down", `${windDownS}s`, "--report", reportFile, "--junit", junitFile));
    const wallS = (performance.now() - started) / 1000;
    // The deadline is a promise about the run's own clock; the process's start-up comes on top.
    expect(wallS).toBeLessThan(maxDurationS + windDownS + 5);
    const report = readReport(reportFile);
    expect(report.wallMs).toBeLessThanOrEqual((maxDurationS + windDownS) * 1000);
    expect(r.code).toBe(1);
    expect(report.stoppedBy).toBe("deadline");
    const silent = hostOf(report, slow.host);
    expect(silent.failed).toBe(signed);
    expect(silent.notReached).toBe(0);
    expect(report.failures.filter((f) => f.host === slow.host).every((f) => f.reason.includes("never answered"))).toBe(true);
    const good = hostOf(report, healthy.host);
    expect(good.failed).toBe(0);
    // The run before this one copied them already: here they are checked, or not reached.
    expect(good.alreadyThere + good.copied + good.notReached).toBe(signed);
    const claims = ledgerClaims(ledger);
    expect(claims.filter((c) => c.mirror === healthy.host)).toHaveLength(good.alreadyThere + good.copied);
    expect(claims.filter((c) => c.mirror === slow.host)).toEqual([]);
    expect(r.err).toContain("the deadline (--max-duration 4s) stopped the run");
    const failing = execFileSync("xmllint", ["--xpath", `string(//testcase[@name='${slow.host}']/failure/@message)`, junitFile], { encoding: "utf8" });
    expect(failing).toContain(`${signed} pairs failed`);
  }, 60_000);
});
