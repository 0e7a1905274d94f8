// --max-duration (start nothing new after D, finish, commit) and --max-overwrites N (an absolute
// count of replaced mirror tags per run; the rest are reported, not touched).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pushSignature, sigTag } from "../harness/index.ts";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, type Scenario } from "../lib/scenario.ts";
import { falseClaims, ledgerClaims, readReport, replicationGaps, signedSubjects, tagDigest } from "./lib.ts";

describe("--max-duration and --max-overwrites", () => {
  let s: Scenario;
  let pairs: number;
  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed: 8, unsigned: 1, indexes: 1 });
    pairs = signedSubjects(s.images).length * s.mirrors.length;
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  test("--max-duration 0s starts nothing: no request, summary printed, exit 0, the run row committed", async () => {
    await s.clearLogs();
    const reportFile = join(s.dir, "zero.json");
    const r = await sigmirror(s.args("replicate", "--max-duration", "0s", "--report", reportFile));
    expect(r.code).toBe(0);
    expect(r.err).toContain("replicate: wall");
    expect(Object.values(await s.requests())).toEqual([0, 0, 0]);
    const report = readReport(reportFile);
    expect(report.pairsChecked).toBe(0);
    expect(report.failed).toBe(0);
    const stats = await sigmirror(["ledger", "stats", "--ledger", s.ledger, "--output", "json"]);
    expect(stats.code).toBe(0);
    const st = JSON.parse(stats.out) as { pairs: number; lastRun?: { verb: string; finishedAt?: number } };
    expect(st.pairs).toBe(0);
    expect(st.lastRun?.verb).toBe("replicate");
    expect(st.lastRun?.finishedAt).toBeNumber();
  });

  // How far a run gets before its deadline depends on the machine's speed; what is asserted here
  // does not. The ordering itself (nothing new after D, what is left is "not reached") is
  // asserted on the injected clock in src/replicate/engine.test.ts.
  test("a slow run cut by --max-duration commits what it did, fails nothing; the rerun completes the rest", async () => {
    const cutFile = join(s.dir, "cut.json");
    const cut = await sigmirror(s.args("replicate", "--max-duration", "3s", "--rate-default", "10", "--rate", `${s.primary.host}=50`, "--concurrency-default", "2", "--report", cutFile));
    expect(cut.code).toBe(0);
    const partial = readReport(cutFile);
    expect(partial.failed).toBe(0);
    expect(partial.interrupted).toBeUndefined();
    if (partial.stoppedBy === "deadline") expect(cut.err).toContain("the deadline (--max-duration 3s) stopped the run");
    expect(partial.copied).toBeLessThanOrEqual(pairs);
    const claims = ledgerClaims(s.ledger);
    expect(claims).toHaveLength(partial.copied + partial.alreadyThere);
    expect(await falseClaims(s.ledger, s.mirrors)).toEqual([]);

    const restFile = join(s.dir, "rest.json");
    const rest = await sigmirror(s.args("replicate", "--report", restFile));
    expect(rest.code).toBe(0);
    expect(await replicationGaps(s, s.mirrors)).toEqual([]);
    const done = readReport(restFile);
    // What the cut run committed is not checked again.
    expect(done.copied + done.alreadyThere).toBe(pairs - claims.length);
    expect(done.failed).toBe(0);
  }, 60_000);

  test("--max-overwrites 3 with 8 re-signed pairs: exactly 3 replaced, 5 reported, exit 1; the next run does the rest", async () => {
    const resigned = s.images.filter((i) => i.signature !== undefined && i.children.length === 0).slice(0, 4);
    const want = new Map<string, string>();
    for (const img of resigned) want.set(img.repository, (await pushSignature(s.primary, img.repository, img.image.digest, { keepExisting: true })).digest);
    const total = resigned.length * s.mirrors.length;

    const reportFile = join(s.dir, "overwrites.json");
    const r = await sigmirror(s.args("replicate", "--reverify-after", "0s", "--max-overwrites", "3", "--report", reportFile));
    expect(r.code).toBe(1);
    const report = readReport(reportFile);
    expect(report.replaced).toBe(3);
    expect(report.replacedList).toHaveLength(3);
    for (const x of report.replacedList) expect(x.to).toBe(want.get(x.repository) ?? "");
    const held = report.conflictList.filter((c) => c.reason.includes("--max-overwrites 3 reached"));
    expect(held).toHaveLength(total - 3);
    expect(report.conflicts).toBe(total - 3);
    expect((r.err.match(/sigmirror: replaced /g) ?? []).length).toBe(3);
    let onNew = 0;
    for (const img of resigned) {
      for (const m of s.mirrors) if ((await tagDigest(m, img.repository, sigTag(img.image.digest))) === want.get(img.repository)) onNew++;
    }
    expect(onNew).toBe(3);
    expect(await falseClaims(s.ledger, s.mirrors)).toEqual([]);

    const next = await sigmirror(s.args("replicate", "--reverify-after", "0s", "--report", reportFile));
    expect(next.code).toBe(0);
    expect(readReport(reportFile).replaced).toBe(total - 3);
    expect(await replicationGaps(s, s.mirrors)).toEqual([]);
  }, 60_000);
});
