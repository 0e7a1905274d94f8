// --ledger-ref under a pod's end: SIGTERM mid-run still pushes what was committed; two jobs
// racing on one ref both finish, the later push wins, and the stored ledger stays usable.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readManifest, startRegistry, type TestRegistry } from "./harness/index.ts";
import { sigmirror } from "./lib/cli.ts";
import { startScenario, type Scenario } from "./lib/scenario.ts";
import { startSigmirror } from "./replicate/lib.ts";

const REPO = "sigmirror/ledger";

describe("--ledger-ref at a pod's end", () => {
  let s: Scenario;
  let store: TestRegistry;
  let ref: string;
  const pods: string[] = [];
  const pod = () => {
    const d = mkdtempSync(join(tmpdir(), "sigmirror-pod-"));
    pods.push(d);
    return d;
  };
  const args = (...extra: string[]) => ["replicate", "--thin-manifest-dir", s.thinDir, "--primary", s.primary.host, "--ledger-ref", ref, ...extra];

  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed: 8, unsigned: 0, indexes: 0 });
    store = await startRegistry();
    ref = `${store.host}/${REPO}:latest`;
  });
  afterAll(async () => {
    await s?.stop();
    await store?.stop();
    for (const d of pods) rmSync(d, { recursive: true, force: true });
  });

  test("SIGTERM during a slow cold run: exit 143, and the ledger is pushed all the same", async () => {
    const run = startSigmirror([...args("--rate-default", "4")]);
    try {
      await run.waitForErr(/copied /, 2, 60_000);
      run.proc.kill("SIGTERM");
      const r = await run.done;
      expect(r.code).toBe(143);
      expect(r.err).toMatch(/ledger: pushed /);
    } finally {
      run.kill();
    }
    expect(await readManifest(store, REPO, "latest")).toBeDefined();
    // The next pod starts from it: the pairs copied before the signal are not copied again.
    const next = await sigmirror(args("--rate-default", "1000"), { cwd: pod() });
    expect(next.code).toBe(0);
    expect(next.err).toContain("pulled");
    const copiedBefore = (run.err().match(/sigmirror: copied /g) ?? []).length;
    const copiedAfter = (next.err.match(/sigmirror: copied /g) ?? []).length;
    expect(copiedBefore).toBeGreaterThan(0);
    expect(copiedBefore + copiedAfter).toBe(16);
  }, 120_000);

  test("two jobs racing on one ref: both succeed, the later push wins, the stored ledger is usable", async () => {
    const [a, b] = await Promise.all([
      sigmirror(args("--reverify-after", "0s", "--rate-default", "1000"), { cwd: pod() }),
      sigmirror(args("--reverify-after", "0s", "--rate-default", "1000"), { cwd: pod() }),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    await s.clearLogs();
    const warm = await sigmirror(args(), { cwd: pod() });
    expect(warm.code).toBe(0);
    expect(warm.err).toContain("pulled");
    const counts = await s.requests();
    for (const m of s.mirrors) expect(counts[m.host]).toBe(0);
  }, 120_000);
});
