import { describe, expect, test } from "bun:test";
import { SourceCache } from "./source-cache.ts";

const bytes = (n: number) => new Uint8Array(n);

describe("SourceCache", () => {
  test("concurrent readers share one load; later readers hit", async () => {
    const c = new SourceCache<Uint8Array>((b) => b.length, 1000);
    let loads = 0;
    const load = async () => {
      loads++;
      await Bun.sleep(5);
      return bytes(10);
    };
    await Promise.all(Array.from({ length: 20 }, () => c.get("k", load)));
    await c.get("k", load);
    expect(loads).toBe(1);
  });

  test("absences and failures are not kept", async () => {
    const c = new SourceCache<Uint8Array>((b) => b.length, 1000);
    let loads = 0;
    await c.get("gone", async () => (loads++, undefined));
    await c.get("gone", async () => (loads++, undefined));
    await c.get("bad", async () => (loads++, Promise.reject(new Error("503")))).catch(() => undefined);
    await c.get("bad", async () => (loads++, bytes(1)));
    expect(loads).toBe(4);
  });

  test("bounded by bytes, least recently used first", async () => {
    const c = new SourceCache<Uint8Array>((b) => b.length, 25);
    let loads = 0;
    const load = (n: number) => async () => (loads++, bytes(n));
    await c.get("a", load(10));
    await c.get("b", load(10));
    await c.get("a", load(10)); // a is now the most recent
    await c.get("c", load(10)); // b goes
    expect(c.bytes).toBe(20);
    expect(loads).toBe(3);
    await c.get("a", load(10));
    expect(loads).toBe(3);
    await c.get("b", load(10));
    expect(loads).toBe(4);
  });
});
