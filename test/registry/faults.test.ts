// The client behind the fault proxy, in front of real registries: 429 storms (Retry-After in
// seconds and as an HTTP-date), 503 storms, resets, stalled bodies, a byte flipped in a blob and
// in a manifest, one host dead while another works. Judged from the proxy's records and the
// target registry's content.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import {
  blobExists,
  pushImage,
  pushSignature,
  readManifest,
  sigTag,
  startFaultProxy,
  startRegistry,
  type FaultProxy,
  type FaultRule,
  type Pushed,
  type TestRegistry,
} from "../harness/index.ts";
import type { RegistryConfig } from "../../src/registry/config.ts";
import { RegistryError } from "../../src/registry/error.ts";
import { client, closeClients, sentDuringRetryAfter } from "./lib.ts";

let src: TestRegistry;
let dst: TestRegistry;
const proxies: FaultProxy[] = [];
/** Signatures on src, each in its own repository. */
const sigs: { repo: string; tag: string; sig: Pushed }[] = [];

beforeAll(async () => {
  [src, dst] = await Promise.all([startRegistry(), startRegistry()]);
  for (let i = 0; i < 8; i++) {
    const repo = `f/app${i}`;
    const img = await pushImage(src, repo);
    sigs.push({ repo, tag: sigTag(img.digest), sig: await pushSignature(src, repo, img.digest, { signatures: 1 + (i % 2) }) });
  }
});
afterEach(async () => {
  closeClients();
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
});

/** Each proxy has its own fixed seed, so a test draws the same faults when run alone. */
async function proxyTo(reg: TestRegistry, rules: FaultRule[] = [], seed = 1): Promise<FaultProxy> {
  const p = await startFaultProxy({ upstream: reg.url, rules, seed });
  proxies.push(p);
  return p;
}

/** A rule match for the first n manifest requests (429 storms kept short and certain). */
function firstManifests(n: number): (r: { path: string }) => boolean {
  let left = n;
  return (r) => r.path.includes("/manifests/") && left-- > 0;
}

/** Copies sigs[0..n) from the src proxy to fresh repositories behind the dst proxy; checks the target's content. */
async function copyAll(srcHost: string, dstHost: string, n: number, config: Partial<RegistryConfig>, prefix: string) {
  const c = client(config);
  const out = await Promise.all(
    sigs.slice(0, n).map((s) => c.copy({ host: srcHost, repository: s.repo }, { host: dstHost, repository: `${prefix}/${s.repo}` }, s.tag, s.sig.digest)),
  );
  for (const [i, s] of sigs.slice(0, n).entries()) {
    expect(out[i]?.digest).toBe(s.sig.digest);
    const there = await readManifest(dst, `${prefix}/${s.repo}`, s.tag);
    expect(there?.bytes).toEqual(s.sig.bytes);
  }
  return c;
}

describe("rate limiting answers", () => {
  test("429 storm with Retry-After in seconds: nothing sent during any pause (one request in flight per host)", async () => {
    const sp = await proxyTo(src, [{ match: firstManifests(1), status429: { p: 1, retryAfter: 1 } }, { status429: { p: 0.05, retryAfter: 1 } }], 101);
    const dp = await proxyTo(dst, [{ match: firstManifests(2), status429: { p: 1, retryAfter: 1 } }, { status429: { p: 0.05, retryAfter: 1 } }], 102);
    const c = await copyAll(sp.host, dp.host, 2, { concurrencyDefault: 1 }, "s429");
    expect(dp.records().some((r) => r.status === 429)).toBe(true);
    for (const p of [sp, dp]) expect(p.violationsOfRetryAfter()).toEqual([]);
    const stats = c.stats().find((h) => h.host === dp.host);
    expect(stats?.status429).toBeGreaterThan(0);
    expect(stats?.pausedMs).toBeGreaterThanOrEqual(1000);
  }, 60_000);

  test("429 storm with Retry-After as an HTTP-date: waited to the date (its 1 s resolution allowed at the boundary)", async () => {
    const dp = await proxyTo(dst, [{ match: firstManifests(2), status429: { p: 1, retryAfter: "http-date", seconds: 1 } }], 103);
    await copyAll(src.host, dp.host, 2, { concurrencyDefault: 1 }, "d429");
    expect(dp.records().some((r) => r.status === 429)).toBe(true);
    // The date is wall-clock, the records' times are not: a few ms of difference between the two clocks.
    expect(dp.violationsOfRetryAfter(5)).toEqual([]);
  }, 60_000);

  test("503 storm: with Retry-After the host pauses; without, each request backs off and retries", async () => {
    const withHeader = await proxyTo(dst, [{ match: firstManifests(2), status5xx: { p: 1, status: 503, retryAfter: 1 } }], 104);
    await copyAll(src.host, withHeader.host, 2, { concurrencyDefault: 1 }, "w503");
    expect(withHeader.records().some((r) => r.status === 503)).toBe(true);
    expect(withHeader.violationsOfRetryAfter()).toEqual([]);
    const bare = await proxyTo(dst, [{ status5xx: { p: 0.3, status: 503 } }, { status5xx: { p: 0.1, status: 502 } }], 105);
    const c = await copyAll(src.host, bare.host, 4, {}, "b503");
    expect(c.stats().find((h) => h.host === bare.host)?.retries).toBeGreaterThan(0);
  }, 60_000);

  test("the mixed storm (15% 429 Retry-After 1, 5% 503, 3% resets) at concurrency 4: every copy lands, within the rate, no sends into a pause", async () => {
    const storm: FaultRule[] = [{ status429: { p: 0.15, retryAfter: 1 }, status5xx: { p: 0.05, status: 503 }, reset: { p: 0.03 } }];
    const sp = await proxyTo(src, storm);
    const dp = await proxyTo(dst, storm);
    const rate = 40;
    const c = await copyAll(sp.host, dp.host, 4, { concurrencyDefault: 4, rateDefault: rate }, "mixed");
    for (const p of [sp, dp]) {
      expect(p.peakPerWindow(1000)).toBeLessThanOrEqual(rate);
      expect(sentDuringRetryAfter(p.records(), 100)).toEqual([]);
    }
    const s = c.stats().find((h) => h.host === dp.host);
    expect(s?.retries).toBeGreaterThan(0);
  }, 60_000);
});

describe("broken transfers", () => {
  test("resets are retried, and never re-sent behind our back (no duplicate within ms of a reset)", async () => {
    const sp = await proxyTo(src, [{ reset: { p: 0.2 } }], 106);
    let uploadPuts = 1;
    const firstUploadPut = (r: { method: string; path: string }) => r.method === "PUT" && r.path.includes("/blobs/uploads/") && uploadPuts-- > 0;
    const dp = await proxyTo(dst, [{ match: firstUploadPut, reset: { p: 1 } }, { reset: { p: 0.2 } }], 107);
    await copyAll(sp.host, dp.host, 4, {}, "reset");
    for (const p of [sp, dp]) {
      const recs = p.records();
      const resets = recs.filter((r) => r.status === "reset");
      expect(resets.length).toBeGreaterThan(0);
      // Bun re-sends a GET, HEAD or PUT (never a POST) 1-2 ms after a reset of a reused
      // connection; our own retries wait at least retryBaseMs / 2 = 25 ms.
      for (const r of resets.filter((x) => x.method !== "POST")) {
        const echo = recs.find((x) => x !== r && x.method === r.method && x.path === r.path && x.arrivedAt > r.arrivedAt && x.arrivedAt - r.arrivedAt < 10);
        expect(echo).toBeUndefined();
      }
      // An upload whose PUT was cut off starts over with a new session: that session is never PUT again.
      const cutUploads = resets.filter((x) => x.method === "PUT" && x.path.includes("/blobs/uploads/"));
      if (p === dp) expect(cutUploads.length).toBeGreaterThan(0);
      for (const r of cutUploads) {
        const session = r.path.split("?")[0];
        expect(recs.filter((x) => x.method === "PUT" && x.path.split("?")[0] === session).length).toBe(1);
      }
    }
  }, 60_000);

  test("stalled bodies time out and are fetched again", async () => {
    const sp = await proxyTo(src, [{ match: (r) => r.method === "GET", stallBody: { p: 0.4 } }], 108);
    const c = await copyAll(sp.host, dst.host, 3, { stallTimeoutMs: 300 }, "stall");
    expect(sp.records().some((r) => r.status === "stall")).toBe(true);
    expect(c.stats().find((h) => h.host === sp.host)?.byStatus["timeout"]).toBeGreaterThan(0);
  }, 60_000);

  test("a byte flipped in a blob: the copy fails naming host, repository, digest; nothing is pushed", async () => {
    const s = sigs[0];
    if (s === undefined) throw new Error("no signature");
    const sp = await proxyTo(src, [{ match: (r) => r.method === "GET" && r.path.includes("/blobs/sha256:"), flipByte: { p: 1 } }], 109);
    const c = client();
    const err: unknown = await c.copy({ host: sp.host, repository: s.repo }, { host: dst.host, repository: "flip/blob" }, s.tag, s.sig.digest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    const e = err as RegistryError;
    expect(e.kind).toBe("digest");
    expect(e.message).toMatch(new RegExp(`^${sp.host.replace(/\./g, "\\.")}: GET ${s.repo}@sha256:[0-9a-f]{64}: blob content digest is sha256:[0-9a-f]{64}: refusing it$`));
    expect(await readManifest(dst, "flip/blob", s.tag)).toBeUndefined();
    for (const b of s.sig.blobs ?? []) expect(await blobExists(dst, "flip/blob", b)).toBe(false);
  }, 60_000);

  test("a byte flipped in a manifest: refused before any blob moves", async () => {
    const s = sigs[1];
    if (s === undefined) throw new Error("no signature");
    const sp = await proxyTo(src, [{ match: (r) => r.path.includes("/manifests/"), flipByte: { p: 1 } }], 110);
    const c = client();
    const err: unknown = await c.copy({ host: sp.host, repository: s.repo }, { host: dst.host, repository: "flip/manifest" }, s.tag, s.sig.digest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).kind).toBe("digest");
    expect((err as RegistryError).message).toContain(`${sp.host}: GET ${s.repo}@${s.sig.digest}: content digest is sha256:`);
    expect(await readManifest(dst, "flip/manifest", s.tag)).toBeUndefined();
    const ours = (await dst.accessLog()).filter((x) => x.userAgent === "sigmirror/test");
    expect(ours.filter((x) => x.path.includes("flip/manifest"))).toEqual([]);
  }, 60_000);
});

describe("interrupts", () => {
  test("an abort ends a Retry-After wait at once, as one line", async () => {
    const dp = await proxyTo(dst, [{ status429: { p: 1, retryAfter: 30 } }], 112);
    const ac = new AbortController();
    const c = client({ signal: ac.signal });
    const pending = c.headManifest(dp.host, "f/app0", "v1").catch((e: unknown) => e);
    while (dp.records().length === 0) await Bun.sleep(5);
    await Bun.sleep(50);
    ac.abort(new Error("SIGINT"));
    const err = await pending;
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).message).toBe(`${dp.host}: HEAD f/app0:v1: aborted (SIGINT)`);
    expect(dp.records().length).toBe(1);
  }, 20_000);
});

describe("hosts fail alone", () => {
  test("one host dead, one hanging, one healthy: the healthy copies finish first and untouched", async () => {
    const healthy = await proxyTo(dst);
    const dead = await proxyTo(dst);
    await dead.stop();
    const hanging = await proxyTo(dst, [{ latencyMs: 30_000 }], 111);
    const c = client({ attemptTimeoutMs: 200, maxAttempts: 5, retryBaseMs: 50, retryMaxMs: 200 });
    const order: string[] = [];
    const copyTo = (host: string, prefix: string, i: number) => {
      const s = sigs[i];
      if (s === undefined) throw new Error("no signature");
      return c.copy({ host: src.host, repository: s.repo }, { host, repository: `${prefix}/${s.repo}` }, s.tag, s.sig.digest).then(
        (r) => {
          order.push(`${prefix} ok`);
          return r;
        },
        (e: unknown) => {
          order.push(`${prefix} failed`);
          throw e;
        },
      );
    };
    const results = await Promise.allSettled([
      copyTo(dead.host, "dead", 0),
      copyTo(hanging.host, "hanging", 1),
      ...[2, 3, 4, 5].map((i) => copyTo(healthy.host, "healthy", i)),
    ]);
    const [deadResult, hangingResult, ...ok] = results;
    expect(ok.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    expect(order.slice(0, 4)).toEqual(["healthy ok", "healthy ok", "healthy ok", "healthy ok"]);
    const deadError = deadResult?.status === "rejected" ? deadResult.reason : undefined;
    const hangError = hangingResult?.status === "rejected" ? hangingResult.reason : undefined;
    expect(deadError).toBeInstanceOf(RegistryError);
    expect((deadError as RegistryError).kind).toBe("network");
    expect((deadError as RegistryError).message).toContain(dead.host);
    expect(hangError).toBeInstanceOf(RegistryError);
    expect((hangError as RegistryError).kind).toBe("timeout");
    const h = c.stats().find((s) => s.host === healthy.host);
    expect(h?.retries).toBe(0);
    expect(h?.pausedMs).toBe(0);
    // five attempts for each request (one HEAD per blob), no more
    const blobs = (i: number) => sigs[i]?.sig.blobs?.length ?? 0;
    expect(c.stats().find((s) => s.host === dead.host)?.requests).toBe(5 * blobs(0));
    expect(c.stats().find((s) => s.host === hanging.host)?.requests).toBe(5 * blobs(1));
  }, 60_000);
});
