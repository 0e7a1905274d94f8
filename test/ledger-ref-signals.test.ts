// --ledger-ref under a pod's end: SIGTERM mid-run still pushes what was committed; two jobs
// racing on one ref both finish, the later push wins, and the stored ledger stays usable.
import { describe, expect, test } from "bun:test";
import { readManifest } from "./harness/index.ts";
import { sigmirror } from "./lib/cli.ts";
import { LEDGER_REPO, useLedgerStore } from "./lib/ledger-store.ts";
import { startSigmirror } from "./replicate/lib.ts";

describe("--ledger-ref at a pod's end", () => {
  const L = useLedgerStore({ mirrors: 2, signed: 8, unsigned: 0, indexes: 0 });

  test("SIGTERM during a slow cold run: exit 143, and the ledger is pushed all the same", async () => {
    const run = startSigmirror([...L.args("--rate-default", "4")]);
    try {
      await run.waitForErr(/copied /, 2, 60_000);
      run.proc.kill("SIGTERM");
      const r = await run.done;
      expect(r.code).toBe(143);
      expect(r.err).toMatch(/ledger: pushed /);
    } finally {
      run.kill();
    }
    expect(await readManifest(L.store, LEDGER_REPO, "latest")).toBeDefined();
    // The next pod starts from it: the pairs copied before the signal are not copied again.
    const next = await sigmirror(L.args("--rate-default", "1000"), { cwd: L.pod() });
    expect(next.code).toBe(0);
    expect(next.err).toContain("pulled");
    const copiedBefore = (run.err().match(/sigmirror: copied /g) ?? []).length;
    const copiedAfter = (next.err.match(/sigmirror: copied /g) ?? []).length;
    expect(copiedBefore).toBeGreaterThan(0);
    expect(copiedBefore + copiedAfter).toBe(16);
  }, 120_000);

  test("two jobs racing on one ref: both succeed, the later push wins, the stored ledger is usable", async () => {
    const [a, b] = await Promise.all([
      sigmirror(L.args("--reverify-after", "0s", "--rate-default", "1000"), { cwd: L.pod() }),
      sigmirror(L.args("--reverify-after", "0s", "--rate-default", "1000"), { cwd: L.pod() }),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    await L.s.clearLogs();
    const warm = await sigmirror(L.args(), { cwd: L.pod() });
    expect(warm.code).toBe(0);
    expect(warm.err).toContain("pulled");
    const counts = await L.s.requests();
    for (const m of L.s.mirrors) expect(counts[m.host]).toBe(0);
  }, 120_000);
});
