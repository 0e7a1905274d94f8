import { describe, expect, test } from "bun:test";
import { HostGivenUp, HostQueues, Stopped } from "./host-queue.ts";

const failing = new Error("127.0.0.9:5000 GET /v2/: connection refused");

describe("HostQueues", () => {
  test("never more than the limit in flight per host, hosts independent", async () => {
    const q = new HostQueues({ limit: (h) => (h === "a" ? 2 : 5), stopping: () => false, giveUpAfter: 3, isHostFailure: () => true });
    const active = new Map<string, number>();
    const peak = new Map<string, number>();
    const job = (h: string) =>
      q.run(h, async () => {
        active.set(h, (active.get(h) ?? 0) + 1);
        peak.set(h, Math.max(peak.get(h) ?? 0, active.get(h) ?? 0));
        await Bun.sleep(2);
        active.set(h, (active.get(h) ?? 0) - 1);
      });
    await Promise.all([...Array.from({ length: 10 }, () => job("a")), ...Array.from({ length: 10 }, () => job("b"))]);
    expect(peak.get("a")).toBe(2);
    expect(peak.get("b")).toBe(5);
  });

  test("a host is given up after N consecutive failures; a success resets the count", async () => {
    const q = new HostQueues({ limit: () => 1, stopping: () => false, giveUpAfter: 2, isHostFailure: (e) => e === failing });
    const fail = () => q.run("h", async () => Promise.reject(failing)).catch((e: unknown) => e);
    await fail();
    await q.run("h", async () => 1);
    await fail();
    expect(q.givenUp("h")).toBeUndefined();
    await fail();
    expect(q.givenUp("h")).toContain("connection refused");
    let ran = false;
    const err = await q.run("h", async () => (ran = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostGivenUp);
    expect(ran).toBe(false);
    expect(await q.run("other", async () => 7)).toBe(7);
  });

  test("errors that are not host failures (404, conflicts) never give a host up", async () => {
    const q = new HostQueues({ limit: () => 1, stopping: () => false, giveUpAfter: 1, isHostFailure: () => false });
    await q.run("h", async () => Promise.reject(new Error("404"))).catch(() => undefined);
    expect(q.givenUp("h")).toBeUndefined();
  });

  test("nothing starts once stopping", async () => {
    let stopping = false;
    const q = new HostQueues({ limit: () => 1, stopping: () => stopping, giveUpAfter: 3, isHostFailure: () => true });
    expect(await q.run("h", async () => 1)).toBe(1);
    stopping = true;
    expect(await q.run("h", async () => 2).catch((e: unknown) => e)).toBeInstanceOf(Stopped);
  });
});

describe("HostQueues races and answers", () => {
  test("a released slot goes to the waiter: a caller arriving in between does not get in too", async () => {
    const q = new HostQueues({ limit: () => 1, stopping: () => false, giveUpAfter: 3, isHostFailure: () => true });
    let active = 0;
    let peak = 0;
    const job = async () => {
      active++;
      peak = Math.max(peak, active);
      await Bun.sleep(1);
      active--;
    };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = q.run("h", () => gate);
    const b = q.run("h", job);
    // Runs right after the first job's own continuation: after the slot is released, before the waiter resumes.
    let c: Promise<void> | undefined;
    const late = gate.then(() => {
      c = q.run("h", job);
    });
    release();
    await Promise.all([a, b, late]);
    await c;
    expect(peak).toBe(1);
  });

  test("asked and answered: a 404 is an answer, a host failure is not; an abort in flight is Stopped", async () => {
    let aborted = false;
    const q = new HostQueues({
      limit: () => 2,
      stopping: () => false,
      aborted: () => aborted,
      giveUpAfter: 9,
      isHostFailure: (e) => e === failing,
    });
    expect(q.asked("dead")).toBe(false);
    await q.run("dead", async () => Promise.reject(failing)).catch(() => undefined);
    expect([q.asked("dead"), q.answered("dead")]).toEqual([true, false]);
    await q.run("alive", async () => Promise.reject(new Error("404"))).catch(() => undefined);
    expect([q.asked("alive"), q.answered("alive")]).toEqual([true, true]);
    aborted = true;
    const err = await q.run("dead", async () => Promise.reject(failing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stopped);
  });
});

describe("HostQueues priorities", () => {
  test("waiting callers go by priority, then arrival", async () => {
    const q = new HostQueues({ limit: () => 1, stopping: () => false, giveUpAfter: 3, isHostFailure: () => true });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const job = (name: string) => async () => {
      order.push(name);
    };
    const first = q.run("h", () => gate);
    const waiting = [q.run("h", job("late-a"), 5), q.run("h", job("early"), 1), q.run("h", job("late-b"), 5), q.run("h", job("earliest"), 0)];
    release();
    await Promise.all([first, ...waiting]);
    expect(order).toEqual(["earliest", "early", "late-a", "late-b"]);
  });

  test("a slot freed by earlier work than every waiter's goes to that work's next request, asked right after", async () => {
    // The first subject's manifest read ends and its tag lookup follows at once: that lookup, not
    // a later repository's read already waiting, takes the slot.
    const q = new HostQueues({ limit: () => 1, stopping: () => false, giveUpAfter: 3, isHostFailure: () => true });
    const order: string[] = [];
    const job = (name: string) => async () => {
      order.push(name);
    };
    const first = q.run("h", job("read"), 0).then(() => q.run("h", job("next read"), 0));
    const other = q.run("h", job("later repository"), 7);
    await Promise.all([first, other]);
    expect(order).toEqual(["read", "next read", "later repository"]);
  });
});
