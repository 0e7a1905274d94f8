// The engine through its RegistryPort, in memory: the orderings a run against real registries
// cannot reach on purpose (a tag moving between a read and a write, a listing that lies, a worker
// that fails, a stop during the last repository, a deadline while a host hangs), on a fake clock.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { familyTag } from "../cosign/tags.ts";
import { Ledger } from "../ledger/ledger.ts";
import { Engine, type EngineOptions, type ReplicaGroup } from "./engine.ts";
import { imageManifest, MemoryRegistry, testEngineOptions, signatureManifest, type Call } from "./memory-port.test-util.ts";
import { defaultSchedule } from "./schedule.ts";

const P = "primary.example";
// A Google-style name: its tag listing is trusted to carry digests, so the engine plans with it.
const G = "europe-docker.pkg.dev";
const M = "mirror.example";

class HostDown extends Error {}

const dirs: string[] = [];
const ledgers: Ledger[] = [];
afterEach(() => {
  for (const l of ledgers.splice(0)) l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function ledger(path?: string): Ledger {
  let file = path;
  if (file === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "sigmirror-engine-"));
    dirs.push(dir);
    file = join(dir, "state.db");
  }
  const l = Ledger.openForRun(file);
  ledgers.push(l);
  return l;
}

/** The ledger as the next run sees it: committed, closed, opened again. */
function reopen(l: Ledger): Ledger {
  l.flush();
  l.close();
  ledgers.splice(ledgers.indexOf(l), 1);
  return ledger(l.path);
}

let clockMs = 1_800_000_000_000;

function options(over: Partial<EngineOptions> = {}): EngineOptions {
  return testEngineOptions(() => clockMs, { isHostFailure: (e) => e instanceof HostDown, ...over });
}

/** `n` signed images in `repository` on the primary (and the images on every mirror). */
function promote(reg: MemoryRegistry, repository: string, n: number, mirrors: readonly string[]): ReplicaGroup[] {
  const groups: ReplicaGroup[] = [];
  for (let i = 0; i < n; i++) {
    const image = imageManifest(`${repository}-${i}`);
    const digest = reg.put(P, repository, image);
    for (const m of mirrors) reg.put(m, repository, image);
    reg.put(P, repository, signatureManifest(`${repository}-${i}-a`), familyTag(digest, "sig"));
    groups.push({ repository, digest, primary: P, mirrors: [...mirrors].sort() });
  }
  return groups;
}

const writes = (calls: readonly Call[], host: string) => calls.filter((c) => c.op === "copy" && c.host === host);

describe("engine: reads before writes", () => {
  test.each(["404", "empty"] as const)("a listing that lies (%s) never licenses a write: the foreign signature is a conflict", async (lie) => {
    const reg = new MemoryRegistry();
    const groups = promote(reg, "prod/app", 3, [G]);
    const l = ledger();
    // A first run verifies every pair, so the next forced one expects the tags present and lists.
    await new Engine(reg, l, options()).run(groups);
    const first = groups[0];
    if (first === undefined) throw new Error("no group");
    const tag = familyTag(first.digest, "sig");
    const foreign = reg.put(G, "prod/app", signatureManifest("someone-else"), tag);
    reg.listingLies.set(G, lie);
    reg.calls.length = 0;
    const e = new Engine(reg, reopen(l), options({ schedule: { ...defaultSchedule, force: true } }));
    await e.run(groups);
    expect(reg.calls.filter((c) => c.host === G).map((c) => c.op)).toContain("list");
    expect(reg.tagDigest(G, "prod/app", tag)).toBe(foreign);
    expect(e.tally.conflicts.map((c) => c.tag)).toEqual([tag]);
    expect(e.tally.copied).toBe(0);
  });

  test("without digests in its listing, a mirror is read tag by tag before copying: nothing is listed", async () => {
    const reg = new MemoryRegistry();
    const groups = promote(reg, "prod/app", 4, [M]);
    await new Engine(reg, ledger(), options()).run(groups);
    expect(reg.calls.filter((c) => c.host === M && c.op === "list")).toEqual([]);
    expect(reg.calls.filter((c) => c.host === M && c.op === "head")).toHaveLength(4);
    expect(writes(reg.calls, M)).toHaveLength(4);
  });

  test("the mirror's tag moves between the lookup and the replace: what it holds now decides (a foreign signature is kept)", async () => {
    const reg = new MemoryRegistry();
    const groups = promote(reg, "prod/app", 1, [M]);
    const g = groups[0];
    if (g === undefined) throw new Error("no group");
    const tag = familyTag(g.digest, "sig");
    // The mirror holds an older signing; the primary's re-signing appended a layer: a replace.
    reg.put(M, "prod/app", signatureManifest("prod/app-0-old"), tag);
    reg.put(P, "prod/app", signatureManifest("prod/app-0-old", "prod/app-0-a"), tag);
    let foreign = "";
    reg.before = (c) => {
      // Right after the lookup, while the engine reads the primary's tag live, another signer writes.
      if (c.host === P && c.op === "get" && c.reference === tag && foreign === "") foreign = reg.put(M, "prod/app", signatureManifest("prod/app-0-old", "someone-else"), tag);
    };
    const e = new Engine(reg, ledger(), options());
    await e.run(groups);
    expect(reg.tagDigest(M, "prod/app", tag)).toBe(foreign);
    expect(e.tally.replaced).toBe(0);
    expect(e.tally.conflicts).toHaveLength(1);
  });

  test("the primary's tag moves before the replace: the live one is copied, and the ledger follows it", async () => {
    const reg = new MemoryRegistry();
    const groups = promote(reg, "prod/app", 1, [M]);
    const g = groups[0];
    if (g === undefined) throw new Error("no group");
    const tag = familyTag(g.digest, "sig");
    reg.put(M, "prod/app", signatureManifest("prod/app-0-a"), tag);
    reg.put(P, "prod/app", signatureManifest("prod/app-0-a", "b"), tag);
    let newest = "";
    reg.before = (c) => {
      if (c.host === M && c.op === "head" && newest === "") newest = reg.put(P, "prod/app", signatureManifest("prod/app-0-a", "b", "c"), tag);
    };
    const l = ledger();
    const e = new Engine(reg, l, options());
    await e.run(groups);
    expect(reg.tagDigest(M, "prod/app", tag)).toBe(newest);
    expect(e.tally.replacedList.map((r) => r.to)).toEqual([newest]);
    expect(reopen(l).subject({ primary: P, repository: "prod/app", digest: g.digest })?.tags.get("sig")).toBe(newest);
  });
});

describe("engine: stops, failures and the deadline", () => {
  test("a worker that fails (the ledger cannot commit) stops the others; run() settles only when nothing is in flight", async () => {
    const reg = new MemoryRegistry();
    const groups = ["a", "b", "c", "d", "e", "f"].flatMap((r) => promote(reg, `prod/${r}`, 3, [M]));
    const l = ledger();
    l.flush = () => {
      throw new Error("state.db: disk full");
    };
    reg.before = async () => {
      await Bun.sleep(1);
    };
    const e = new Engine(reg, l, options({ flushEvery: 1, repositoryConcurrency: 3 }));
    const err = await e.run(groups).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("state.db: disk full");
    const callsAtEnd = reg.calls.length;
    expect(reg.active).toBe(0);
    await Bun.sleep(20);
    expect(reg.calls.length).toBe(callsAtEnd);
    expect(e.stoppedBy).toBe("error");
    expect(e.complete).toBe(false);
    expect(e.progress.left).toBeGreaterThan(0);
  });

  test("a stop during the last repository leaves the run incomplete (so nothing is pruned)", async () => {
    const reg = new MemoryRegistry();
    const groups = [...promote(reg, "prod/a", 2, [M]), ...promote(reg, "prod/z", 2, [M])];
    let stop = false;
    reg.before = (c) => {
      if (c.repository === "prod/z" && c.host === M) stop = true;
    };
    const e = new Engine(reg, ledger(), options({ repositoryConcurrency: 1, stopping: () => stop }));
    await e.run(groups);
    expect(e.progress.left).toBe(0);
    expect(e.tally.notReached).toBeGreaterThan(0);
    expect(e.complete).toBe(false);
  });

  test("the deadline: nothing new starts; a host that never answered is failed, one that answered has its rest not reached", async () => {
    const reg = new MemoryRegistry();
    const dead = "dead.example";
    const groups = [...promote(reg, "prod/a", 3, [M, dead]), ...promote(reg, "prod/b", 3, [M, dead])];
    const deadline = clockMs + 30_000;
    let aborted = false;
    const abort = new AbortController();
    let healthyCalls = 0;
    reg.before = async (c) => {
      if (c.host === M && ++healthyCalls === 5) clockMs = deadline; // time passes while the healthy mirror works
      if (c.host !== dead) return;
      // Answers nothing until the wind-down aborts it.
      await new Promise<void>((_resolve, reject) => abort.signal.addEventListener("abort", () => reject(new HostDown("aborted"))));
    };
    const e = new Engine(reg, ledger(), options({ repositoryConcurrency: 1, deadline, aborted: () => aborted, hostConcurrency: () => 1 }));
    const done = e.run(groups);
    await Bun.sleep(20);
    aborted = true;
    abort.abort();
    await done;
    expect(e.stoppedBy).toBe("deadline");
    expect(e.progress.left).toBe(1);
    const deadFailures = e.tally.failures.filter((f) => f.host === dead);
    expect(deadFailures).toHaveLength(3);
    expect(deadFailures[0]?.reason).toContain("never answered");
    expect(e.tally.host(dead).failed).toBe(3);
    expect(e.tally.host(dead).notReached).toBe(0);
    expect(e.tally.host(M).copied + e.tally.host(M).notReached).toBe(3);
    expect(e.tally.host(M).failed).toBe(0);
    expect(reg.calls.filter((c) => c.repository === "prod/b")).toEqual([]);
  });

  test("copies inside one long repository are committed by time, not only when the repository ends", async () => {
    const reg = new MemoryRegistry();
    const groups = promote(reg, "prod/big", 6, [M]);
    const l = ledger();
    let copies = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let committedWhileHeld = -1;
    reg.before = async (c) => {
      if (c.op !== "copy") return;
      copies++;
      clockMs += 2_000;
      if (copies === 6) {
        // What another reader of the file sees now: only committed pairs.
        const reader = Ledger.openReadOnly(l.path);
        committedWhileHeld = reader.pairCount;
        reader.close();
        await held;
      }
    };
    const e = new Engine(reg, l, options({ hostConcurrency: () => 1 }));
    const done = e.run(groups);
    while (committedWhileHeld < 0) await Bun.sleep(1);
    release();
    await done;
    // 5 copies over 10 s of the run's clock, the repository not done: at most the last 5 s of them uncommitted.
    expect(committedWhileHeld).toBeGreaterThanOrEqual(5 - 3);
  });
});
