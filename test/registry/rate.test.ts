// The per-host rate, judged by arrival times at the server (the fault proxy's records): at a low
// limit with more work than it allows, and per host with different limits at once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pushImage, startFaultProxy, startRegistry, type FaultProxy, type TestRegistry } from "../harness/index.ts";
import { client, closeClients } from "./lib.ts";

let reg: TestRegistry;
const proxies: FaultProxy[] = [];
let digests: string[] = [];

beforeAll(async () => {
  reg = await startRegistry();
  digests = await Promise.all(Array.from({ length: 6 }, async () => (await pushImage(reg, "rate/app")).digest));
});
afterAll(async () => {
  closeClients();
  await Promise.all(proxies.map((p) => p.stop()));
  await reg?.stop();
});

test("5 requests/s: no 1 s window at the server holds more than 5 requests, retries and 429s included", async () => {
  let left = 3;
  // A few 429s without timing headers (the per-host backoff) and some 503s (retries) among them.
  const p = await startFaultProxy({
    upstream: reg.url,
    seed: 5,
    rules: [{ match: () => left-- > 0 && left % 2 === 0, status429: { p: 1 } }, { status5xx: { p: 0.1, status: 503 } }],
  });
  proxies.push(p);
  const c = client({ rateDefault: 5, concurrencyDefault: 4, backoffBaseMs: 200, backoffMaxMs: 400 });
  const heads = Array.from({ length: 18 }, (_, i) => c.headManifest(p.host, "rate/app", digests[i % digests.length] ?? ""));
  const found = await Promise.all(heads);
  expect(found.every((d) => d !== undefined)).toBe(true);
  const records = p.records();
  expect(records.length).toBeGreaterThanOrEqual(18);
  expect(p.peakPerWindow(1000)).toBeLessThanOrEqual(5);
  const s = c.stats().find((h) => h.host === p.host);
  expect(s?.requests).toBe(records.length);
  console.log(`rate 5/s: ${records.length} requests, peak per 1 s window ${p.peakPerWindow(1000)}, retries ${s?.retries}`);
}, 60_000);

test("each host keeps its own rate, at the same time", async () => {
  const [slow, fast] = await Promise.all([startFaultProxy({ upstream: reg.url }), startFaultProxy({ upstream: reg.url })]);
  proxies.push(slow, fast);
  const c = client({ rateDefault: 30, rates: new Map([[slow.host, 8]]), concurrencyDefault: 8 });
  const work = (host: string, n: number) => Array.from({ length: n }, (_, i) => c.headManifest(host, "rate/app", digests[i % digests.length] ?? ""));
  await Promise.all([...work(slow.host, 20), ...work(fast.host, 60)]);
  expect(slow.peakPerWindow(1000)).toBeLessThanOrEqual(8);
  expect(fast.peakPerWindow(1000)).toBeLessThanOrEqual(30);
  // the fast host was not held to the slow one's pace: it finished its 60 before the slow one its 20
  const lastFast = Math.max(...fast.records().map((r) => r.arrivedAt));
  const lastSlow = Math.max(...slow.records().map((r) => r.arrivedAt));
  expect(lastFast).toBeLessThan(lastSlow);
}, 60_000);
