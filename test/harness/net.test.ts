import { expect, test } from "bun:test";
import { createServer } from "node:net";
import { allocateLoopback, hostOf, isFree } from "./net.ts";

test("allocateLoopback: random 127.a.b.c (never .0, .255 or 127.0.0.1) with a port free there", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const addr = await allocateLoopback();
    const octets = addr.ip.split(".").map(Number);
    expect(octets[0]).toBe(127);
    for (const o of octets.slice(1)) {
      expect(o).toBeGreaterThanOrEqual(1);
      expect(o).toBeLessThanOrEqual(254);
    }
    expect(addr.ip).not.toBe("127.0.0.1");
    expect(addr.port).toBeGreaterThan(0);
    expect(await isFree(addr.ip, addr.port)).toBe(true);
    seen.add(hostOf(addr));
  }
  expect(seen.size).toBe(20);
});

test("isFree sees a listener", async () => {
  const addr = await allocateLoopback();
  const server = createServer();
  await new Promise<void>((r) => server.listen(addr.port, addr.ip, r));
  try {
    expect(await isFree(addr.ip, addr.port)).toBe(false);
  } finally {
    await new Promise((r) => server.close(r));
  }
  expect(await isFree(addr.ip, addr.port)).toBe(true);
});
