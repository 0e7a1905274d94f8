import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  peakPerWindow,
  startFaultProxy,
  violationsOfRetryAfter,
  type FaultProxy,
  type FaultRule,
  type ProxyRequestRecord,
} from "./fault-proxy.ts";
import { pushImage, pushIndex, pushManifestBytes, sha256Digest, type Pushed } from "./images.ts";
import { startRegistry, type TestRegistry } from "./registry.ts";

// ---------------------------------------------------------------------------------------------
// An upstream we control (Bun.serve on a random loopback address)

function randomLoopbackIp(): string {
  const o = (): number => 1 + Math.floor(Math.random() * 254);
  return `127.${o()}.${o()}.${o()}`;
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

let upstream: ReturnType<typeof Bun.serve>;
let upstreamOrigin = "";
const proxies: FaultProxy[] = [];

async function proxy(opts: { seed?: number; rules?: FaultRule[] } = {}): Promise<FaultProxy> {
  const p = await startFaultProxy({ upstream: upstreamOrigin, ...opts });
  proxies.push(p);
  return p;
}

beforeAll(() => {
  upstream = Bun.serve({
    hostname: randomLoopbackIp(),
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = new Uint8Array(await req.arrayBuffer());
      const bytes = /^\/bytes\/(\d+)$/.exec(url.pathname);
      if (bytes) return new Response(pattern(Number(bytes[1])), { headers: { "Content-Type": "application/octet-stream" } });
      if (url.pathname === "/redirect") {
        return new Response(null, { status: 302, headers: { Location: `${upstreamOrigin}/target?x=1` } });
      }
      if (url.pathname === "/relative-redirect") return new Response(null, { status: 302, headers: { Location: "/target" } });
      if (url.pathname === "/auth-self") {
        return new Response("{}", {
          status: 401,
          headers: { "Www-Authenticate": `Bearer realm="${upstreamOrigin}/token",service="svc"` },
        });
      }
      if (url.pathname === "/auth-other") {
        return new Response("{}", {
          status: 401,
          headers: { "Www-Authenticate": `Bearer realm="http://127.9.9.9:1/token",service="svc"` },
        });
      }
      return Response.json(
        {
          method: req.method,
          target: url.pathname + url.search,
          authorization: req.headers.get("authorization"),
          custom: req.headers.get("x-custom"),
          bodyLength: body.length,
          bodySha256: sha256(body),
        },
        { status: url.pathname === "/created" ? 201 : 200, headers: { "X-Upstream": "yes" } },
      );
    },
  });
  upstreamOrigin = `http://${upstream.hostname}:${upstream.port}`;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await upstream.stop(true);
});

interface Echo {
  method: string;
  target: string;
  authorization: string | null;
  custom: string | null;
  bodyLength: number;
  bodySha256: string;
}

function isEcho(v: unknown): v is Echo {
  return typeof v === "object" && v !== null && "target" in v && "bodySha256" in v;
}

async function echo(res: Response): Promise<Echo> {
  const v: unknown = await res.json();
  if (!isEcho(v)) throw new Error(`not an echo: ${JSON.stringify(v)}`);
  return v;
}

/** Outcome of one fetch: the status, or the error code/name it threw. */
async function outcome(url: string, init: RequestInit = {}): Promise<number | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000), ...init });
    await res.arrayBuffer();
    return res.status;
  } catch (e) {
    const code = typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : undefined;
    return code ?? (e instanceof Error ? e.name : String(e));
  }
}

function errorCode(e: unknown): string {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") return e.code;
  return e instanceof Error ? e.name : String(e);
}

// ---------------------------------------------------------------------------------------------

describe("forwarding", () => {
  test("method, path+query, headers incl. Authorization, body and response pass through unchanged", async () => {
    const p = await proxy();
    const body = pattern(1_000_000);
    const res = await fetch(`${p.url}/created?a=1&b=two%20words`, {
      method: "PUT",
      headers: { Authorization: "Bearer secret-token", "X-Custom": "kept", "Content-Type": "application/octet-stream" },
      body,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-upstream")).toBe("yes");
    const e = await echo(res);
    expect(e).toEqual({
      method: "PUT",
      target: "/created?a=1&b=two%20words",
      authorization: "Bearer secret-token",
      custom: "kept",
      bodyLength: body.length,
      bodySha256: sha256(body),
    });

    const got = await fetch(`${p.url}/bytes/70000`);
    const bytes = new Uint8Array(await got.arrayBuffer());
    expect(got.headers.get("content-length")).toBe("70000");
    expect(sha256(bytes)).toBe(sha256(pattern(70000)));

    const head = await fetch(`${p.url}/bytes/1234`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("1234");
    expect(p.records().map((r) => [r.method, r.path, r.status])).toEqual([
      ["PUT", "/created?a=1&b=two%20words", 201],
      ["GET", "/bytes/70000", 200],
      ["HEAD", "/bytes/1234", 200],
    ]);
  });

  test("a chunked request body (streamed by fetch) arrives whole", async () => {
    const p = await proxy();
    const parts = [pattern(10), pattern(40_000), pattern(3)];
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const part of parts) c.enqueue(part);
        c.close();
      },
    });
    const e = await echo(await fetch(`${p.url}/upload`, { method: "POST", body: stream }));
    const whole = Buffer.concat(parts);
    expect(e.bodyLength).toBe(whole.length);
    expect(e.bodySha256).toBe(sha256(whole));
  });

  test("keep-alive: two pipelined requests (one chunked) on one raw connection get two answers", async () => {
    const p = await proxy();
    const [ip = "", port = ""] = p.host.split(":");
    let received = "";
    let closed = false;
    const socket = await Bun.connect({
      hostname: ip,
      port: Number(port),
      socket: {
        data(_s, d) {
          received += d.toString("latin1");
        },
        close() {
          closed = true;
        },
      },
    });
    try {
      socket.write(
        `GET /one HTTP/1.1\r\nHost: ${p.host}\r\n\r\n` +
          `POST /two HTTP/1.1\r\nHost: ${p.host}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n`,
      );
      for (let i = 0; i < 500 && (received.match(/HTTP\/1\.1 200/g)?.length ?? 0) < 2; i++) await Bun.sleep(10);
      expect(received.match(/HTTP\/1\.1 200/g)?.length).toBe(2);
      expect(received).toContain(`"target":"/one"`);
      expect(received).toContain(`"bodySha256":"${sha256(Buffer.from("abcde"))}"`);
      expect(closed).toBe(false);
    } finally {
      socket.end();
    }
    expect(p.records().map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/one", 200],
      ["POST", "/two", 200],
    ]);
  });

  test("Location pointing at the upstream is rewritten to the proxy; a relative one is kept", async () => {
    const p = await proxy();
    const abs = await fetch(`${p.url}/redirect`, { redirect: "manual" });
    expect(abs.status).toBe(302);
    expect(abs.headers.get("location")).toBe(`${p.url}/target?x=1`);
    const rel = await fetch(`${p.url}/relative-redirect`, { redirect: "manual" });
    expect(rel.headers.get("location")).toBe("/target");
  });

  test("Www-Authenticate realm is rewritten only when it is the upstream host", async () => {
    const p = await proxy();
    const self = await fetch(`${p.url}/auth-self`);
    await self.arrayBuffer();
    expect(self.headers.get("www-authenticate")).toBe(`Bearer realm="${p.url}/token",service="svc"`);
    const other = await fetch(`${p.url}/auth-other`);
    await other.arrayBuffer();
    expect(other.headers.get("www-authenticate")).toBe(`Bearer realm="http://127.9.9.9:1/token",service="svc"`);
  });

  test("an unreachable upstream is answered 502 and recorded as such", async () => {
    const dead = Bun.serve({ hostname: randomLoopbackIp(), port: 0, fetch: () => new Response("") });
    const deadOrigin = `http://${dead.hostname}:${dead.port}`;
    await dead.stop(true);
    const p = await startFaultProxy({ upstream: deadOrigin });
    proxies.push(p);
    expect(await outcome(`${p.url}/x`)).toBe(502);
    expect(p.records()[0]).toMatchObject({ status: 502, fault: "upstream-error" });
  });
});

describe("faults at p=1 and p=0", () => {
  const n = 20;

  test("p=0 for every fault: every request is forwarded untouched", async () => {
    const p = await proxy({
      rules: [{ status429: { p: 0 }, status5xx: { p: 0 }, reset: { p: 0 }, stallBody: { p: 0 }, flipByte: { p: 0 } }],
    });
    const expected = sha256(pattern(5000));
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${p.url}/bytes/5000`, { signal: AbortSignal.timeout(5_000) });
      expect(res.status).toBe(200);
      expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(expected);
    }
    expect(p.records().every((r) => r.status === 200 && r.fault === undefined)).toBe(true);
    expect(p.records()).toHaveLength(n);
  });

  test("status429 p=1: every answer is 429 TOOMANYREQUESTS, nothing reaches the upstream", async () => {
    const p = await proxy({ rules: [{ status429: { p: 1 } }] });
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${p.url}/echo`);
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBeNull();
      expect(await res.text()).toContain("TOOMANYREQUESTS");
    }
    expect(p.records().filter((r) => r.status === 429 && r.fault === "status429")).toHaveLength(n);
  });

  test("status5xx p=1: 503 by default, or the given status", async () => {
    const p = await proxy({ rules: [{ status5xx: { p: 1 } }] });
    for (let i = 0; i < n; i++) expect(await outcome(`${p.url}/echo`)).toBe(503);
    p.setRules([{ status5xx: { p: 1, status: 500 } }]);
    expect(await outcome(`${p.url}/echo`)).toBe(500);
    expect(p.records().map((r) => r.fault)).toEqual(Array.from({ length: n + 1 }, () => "status5xx"));
  });

  test("reset p=1: the client's fetch fails with ECONNRESET", async () => {
    const p = await proxy({ rules: [{ reset: { p: 1 } }] });
    for (let i = 0; i < n; i++) {
      // keepalive:false: each on a fresh connection, so Bun does not re-send (see below)
      expect(await outcome(`${p.url}/echo`, { keepalive: false })).toBe("ECONNRESET");
    }
    expect(p.records().map((r) => r.status)).toEqual(Array.from({ length: n }, () => "reset"));
  });

  test("stallBody p=1: headers and part of the body arrive, then the client times out", async () => {
    const p = await proxy({ rules: [{ stallBody: { p: 1, afterBytes: 100 } }] });
    const res = await fetch(`${p.url}/bytes/1000`, { signal: AbortSignal.timeout(300) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("1000");
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    let got = 0;
    let error: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        got += value.length;
      }
    } catch (e) {
      error = e;
    }
    expect(errorCode(error)).toBe("TimeoutError");
    expect(got).toBe(100);
    expect(p.records()[0]).toMatchObject({ status: "stall", fault: "stallBody" });
  });

  test("stallBody on an empty body (HEAD) stalls before the status line", async () => {
    const p = await proxy({ rules: [{ stallBody: { p: 1 } }] });
    expect(await outcome(`${p.url}/bytes/10`, { method: "HEAD", signal: AbortSignal.timeout(300) })).toBe("TimeoutError");
    expect(p.records()[0]?.status).toBe("stall");
  });

  test("flipByte p=1: same length, different sha256, exactly one byte differs", async () => {
    const p = await proxy({ rules: [{ flipByte: { p: 1 } }] });
    const original = pattern(4096);
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${p.url}/bytes/4096`);
      const body = new Uint8Array(await res.arrayBuffer());
      expect(res.headers.get("content-length")).toBe("4096");
      expect(body.length).toBe(original.length);
      expect(sha256(body)).not.toBe(sha256(original));
      expect(body.filter((b, j) => b !== original[j]).length).toBe(1);
    }
    expect(p.records().every((r) => r.status === 200 && r.fault === "flipByte")).toBe(true);
  });

  test("latencyMs delays the answer at least that long", async () => {
    const p = await proxy({ rules: [{ latencyMs: 60 }] });
    expect(await outcome(`${p.url}/echo`)).toBe(200);
    const [r] = p.records();
    expect((r?.respondedAt ?? 0) - (r?.arrivedAt ?? 0)).toBeGreaterThanOrEqual(59);
  });

  test("match limits a rule to the requests it accepts", async () => {
    const p = await proxy({ rules: [{ status429: { p: 1 }, match: (r) => r.method === "GET" && r.path.startsWith("/limited") }] });
    expect(await outcome(`${p.url}/limited/x`)).toBe(429);
    expect(await outcome(`${p.url}/limited/x`, { method: "HEAD" })).toBe(200);
    expect(await outcome(`${p.url}/free`)).toBe(200);
  });

  test("setRules changes faults at runtime and rejects a probability outside [0, 1]", async () => {
    const p = await proxy();
    expect(await outcome(`${p.url}/echo`)).toBe(200);
    p.setRules([{ status5xx: { p: 1 } }]);
    expect(await outcome(`${p.url}/echo`)).toBe(503);
    p.setRules([]);
    expect(await outcome(`${p.url}/echo`)).toBe(200);
    expect(() => p.setRules([{ reset: { p: 1.5 } }])).toThrow(/reset\.p/);
  });
});

describe("probabilities and seeds", () => {
  test("faults fire at about their probability (p=0.25, 400 requests, fixed seed)", async () => {
    const p = await proxy({ seed: 1, rules: [{ status429: { p: 0.25 } }] });
    const statuses: Array<number | string> = [];
    for (let i = 0; i < 400; i++) statuses.push(await outcome(`${p.url}/echo`));
    const hits = statuses.filter((s) => s === 429).length;
    expect(hits).toBeGreaterThan(60);
    expect(hits).toBeLessThan(140);
    expect(statuses.filter((s) => s === 200).length).toBe(400 - hits);
  });

  test("reset and flipByte at p=0.3 fire at about that rate", async () => {
    const p = await proxy({ seed: 2, rules: [{ reset: { p: 0.3 } }] });
    let resets = 0;
    for (let i = 0; i < 200; i++) if ((await outcome(`${p.url}/echo`, { keepalive: false })) === "ECONNRESET") resets++;
    expect(resets).toBeGreaterThan(30);
    expect(resets).toBeLessThan(90);
    expect(p.records().filter((r) => r.status === "reset")).toHaveLength(resets);

    p.setRules([{ flipByte: { p: 0.3 } }]);
    let flipped = 0;
    const expected = sha256(pattern(64));
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${p.url}/bytes/64`);
      if (sha256(new Uint8Array(await res.arrayBuffer())) !== expected) flipped++;
    }
    expect(flipped).toBeGreaterThan(30);
    expect(flipped).toBeLessThan(90);
    expect(p.records().filter((r) => r.fault === "flipByte")).toHaveLength(flipped);
  });

  async function sequence(seed: number): Promise<Array<number | string>> {
    const p = await proxy({
      seed,
      rules: [{ status429: { p: 0.3 } }, { status5xx: { p: 0.3 }, match: (r) => r.path.startsWith("/b") }],
    });
    const out: Array<number | string> = [];
    for (let i = 0; i < 60; i++) out.push(await outcome(`${p.url}/${i % 2 === 0 ? "a" : "b"}/${i}`));
    await p.stop();
    return out;
  }

  test("the same seed reproduces the same faults; another seed does not", async () => {
    const first = await sequence(42);
    const again = await sequence(42);
    const other = await sequence(43);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect(first).toContain(429);
    expect(first).toContain(503);
    expect(first).toContain(200);
  });
});

describe("Retry-After and records", () => {
  test("429 with Retry-After in seconds; retryAfterUntil = respondedAt + seconds", async () => {
    const p = await proxy({ rules: [{ status429: { p: 1, retryAfter: 3 } }] });
    const res = await fetch(`${p.url}/echo`);
    await res.arrayBuffer();
    expect(res.headers.get("retry-after")).toBe("3");
    const [r] = p.records();
    expect(r?.retryAfterUntil).toBe((r?.respondedAt ?? 0) + 3000);
  });

  test("429 with Retry-After as an HTTP-date; retryAfterUntil is that date", async () => {
    const p = await proxy({ rules: [{ status429: { p: 1, retryAfter: "http-date", seconds: 5 } }] });
    const before = Date.now();
    const res = await fetch(`${p.url}/echo`);
    await res.arrayBuffer();
    const header = res.headers.get("retry-after") ?? "";
    expect(header).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const date = Date.parse(header);
    const [r] = p.records();
    expect(r?.retryAfterUntil).toBe(date);
    // Rounded up to a whole second: never earlier than now + seconds.
    expect(date).toBeGreaterThanOrEqual(before + 5000);
    expect(date).toBeLessThanOrEqual(Date.now() + 6000);
  });

  test("503 with Retry-After in seconds", async () => {
    const p = await proxy({ rules: [{ status5xx: { p: 1, retryAfter: 2 } }] });
    const res = await fetch(`${p.url}/echo`);
    await res.arrayBuffer();
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(p.records()[0]?.retryAfterUntil).toBe((p.records()[0]?.respondedAt ?? 0) + 2000);
  });

  const rec = (arrivedAt: number, extra: Partial<ProxyRequestRecord> = {}): ProxyRequestRecord => ({
    method: "GET",
    path: `/x/${arrivedAt}`,
    arrivedAt,
    status: 200,
    ...extra,
  });

  test("peakPerWindow counts arrivals in the busiest half-open window", () => {
    const rs = [0, 10, 20, 1000, 1005, 1010, 1015, 3000].map((t) => rec(t));
    expect(peakPerWindow(rs, 1000)).toBe(5); // [20, 1020): 20, 1000, 1005, 1010, 1015
    expect(peakPerWindow(rs, 100)).toBe(4);
    expect(peakPerWindow(rs, 10)).toBe(2);
    expect(peakPerWindow([...rs].reverse(), 1000)).toBe(5);
    expect(peakPerWindow([], 1000)).toBe(0);
  });

  test("violationsOfRetryAfter: arrivals after the answer and before retryAfterUntil, nothing else", () => {
    const sender = rec(1000, { status: 429, respondedAt: 1005, retryAfterUntil: 3005 });
    const inFlight = rec(1002); // arrived before the 429 went out: not a violation
    const early = rec(2000);
    const justBefore = rec(3004.9);
    const onTime = rec(3005);
    const later = rec(4000);
    const all = [sender, inFlight, early, justBefore, onTime, later];
    expect(violationsOfRetryAfter(all)).toEqual([early, justBefore]);
    expect(violationsOfRetryAfter(all, 1)).toEqual([early]);
    expect(violationsOfRetryAfter([sender, inFlight, onTime, later])).toEqual([]);
  });

  test("live: a client that comes back at once violates; one that waits does not", async () => {
    const p = await proxy();
    let first = true;
    p.setRules([{ status429: { p: 1, retryAfter: 1 }, match: () => (first ? !(first = false) : false) }]);
    expect(await outcome(`${p.url}/a`)).toBe(429);
    expect(await outcome(`${p.url}/b`)).toBe(200);
    expect(p.violationsOfRetryAfter().map((r) => r.path)).toEqual(["/b"]);

    p.clear();
    first = true;
    expect(await outcome(`${p.url}/c`)).toBe(429);
    await Bun.sleep(1000);
    expect(await outcome(`${p.url}/d`)).toBe(200);
    expect(p.violationsOfRetryAfter()).toEqual([]);
    expect(p.records().map((r) => [r.path, r.status])).toEqual([
      ["/c", 429],
      ["/d", 200],
    ]);
  });

  test("live: peakPerWindow over what the proxy saw; clear() forgets", async () => {
    const p = await proxy();
    for (let i = 0; i < 7; i++) expect(await outcome(`${p.url}/e/${i}`)).toBe(200);
    expect(p.peakPerWindow(60_000)).toBe(7);
    const arrivals = p.records().map((r) => r.arrivedAt);
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));
    p.clear();
    expect(p.records()).toEqual([]);
    expect(p.peakPerWindow()).toBe(0);
  });
});

describe("stop", () => {
  test("stop() closes the listener and a stalled connection; asyncDispose works", async () => {
    const p = await startFaultProxy({ upstream: upstreamOrigin, rules: [{ stallBody: { p: 1 } }] });
    const stalled = outcome(`${p.url}/bytes/100`, { signal: AbortSignal.timeout(10_000) });
    for (let i = 0; i < 200 && p.records().length === 0; i++) await Bun.sleep(10);
    await p.stop();
    // The connection is closed under the client: an error, not the 10 s timeout.
    expect(await stalled).toBe("ECONNRESET");
    expect(await outcome(`${p.url}/echo`, { keepalive: false })).toBe("ECONNREFUSED");
    await p.stop(); // idempotent

    let url = "";
    {
      await using q = await startFaultProxy({ upstream: upstreamOrigin });
      url = q.url;
      expect(await outcome(`${url}/echo`)).toBe(200);
    }
    expect(await outcome(`${url}/echo`, { keepalive: false })).toBe("ECONNREFUSED");
  });
});

// Characterization of Bun's fetch (1.4.5), which the project's client is built on: on a reused
// keep-alive connection that is reset, Bun re-sends an idempotent request once by itself.
describe("Bun fetch on a reset (characterization)", () => {
  async function warm(p: FaultProxy): Promise<void> {
    p.setRules([]);
    expect(await outcome(`${p.url}/warm`)).toBe(200);
    p.clear();
  }

  test("reused connection: GET, HEAD, PUT, DELETE are re-sent once (2 arrivals), then ECONNRESET", async () => {
    const p = await proxy();
    for (const method of ["GET", "HEAD", "PUT", "DELETE"]) {
      await warm(p);
      p.setRules([{ reset: { p: 1 }, match: (r) => r.path === "/reset" }]);
      const body = method === "PUT" ? "abc" : undefined;
      expect(await outcome(`${p.url}/reset`, { method, ...(body ? { body } : {}) })).toBe("ECONNRESET");
      expect({ method, arrivals: p.records().map((r) => r.status) }).toEqual({ method, arrivals: ["reset", "reset"] });
    }
  });

  test("reused connection: POST is not re-sent; keepalive:false and a fresh connection are not either", async () => {
    const p = await proxy();
    await warm(p);
    p.setRules([{ reset: { p: 1 }, match: (r) => r.path === "/reset" }]);
    expect(await outcome(`${p.url}/reset`, { method: "POST", body: "x" })).toBe("ECONNRESET");
    expect(p.records()).toHaveLength(1);

    await warm(p);
    p.setRules([{ reset: { p: 1 }, match: (r) => r.path === "/reset" }]);
    expect(await outcome(`${p.url}/reset`, { keepalive: false })).toBe("ECONNRESET");
    expect(p.records()).toHaveLength(1);

    const fresh = await proxy({ rules: [{ reset: { p: 1 } }] });
    expect(await outcome(`${fresh.url}/reset`)).toBe("ECONNRESET");
    expect(fresh.records()).toHaveLength(1);
  });

  test("reused connection: when only the first attempt is reset, the client sees success", async () => {
    const p = await proxy();
    await warm(p);
    let resetNext = true;
    p.setRules([{ reset: { p: 1 }, match: () => (resetNext ? !(resetNext = false) : false) }]);
    expect(await outcome(`${p.url}/once`)).toBe(200);
    expect(p.records().map((r) => [r.path, r.status])).toEqual([
      ["/once", "reset"],
      ["/once", 200],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Through a real distribution registry

describe("through a real registry (distribution 2.8)", () => {
  let reg: TestRegistry;
  let basicReg: TestRegistry;
  beforeAll(async () => {
    [reg, basicReg] = await Promise.all([startRegistry(), startRegistry({ auth: "htpasswd" })]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([reg?.stop(), basicReg?.stop()]);
  });

  async function registryProxy(target: TestRegistry, opts: { rules?: FaultRule[]; pageSize?: number } = {}): Promise<FaultProxy> {
    const p = await startFaultProxy({
      upstream: target.url,
      ...(opts.rules ? { rules: opts.rules } : {}),
      ...(opts.pageSize !== undefined ? { googleListing: { pageSize: opts.pageSize } } : {}),
    });
    proxies.push(p);
    return p;
  }

  test("a blob upload and a manifest push through the proxy: every Location points at the proxy", async () => {
    const p = await registryProxy(reg);
    const repo = "fp/upload";
    const blob = pattern(300_000);
    const digest = sha256Digest(blob);

    const post = await fetch(`${p.url}/v2/${repo}/blobs/uploads/`, { method: "POST" });
    await post.arrayBuffer();
    expect(post.status).toBe(202);
    const uploadLocation = post.headers.get("location") ?? "";
    expect(uploadLocation.startsWith(`${p.url}/v2/${repo}/blobs/uploads/`)).toBe(true);

    const put = new URL(uploadLocation);
    put.searchParams.set("digest", digest);
    const done = await fetch(put, { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: blob });
    await done.arrayBuffer();
    expect(done.status).toBe(201);
    expect(done.headers.get("location")).toBe(`${p.url}/v2/${repo}/blobs/${digest}`);
    expect(done.headers.get("docker-content-digest")).toBe(digest);

    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest, size: blob.length },
        layers: [],
      }),
    );
    const mput = await fetch(`${p.url}/v2/${repo}/manifests/v1`, {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      body: manifest,
    });
    await mput.arrayBuffer();
    expect(mput.status).toBe(201);
    expect(mput.headers.get("location")).toBe(`${p.url}/v2/${repo}/manifests/${sha256Digest(manifest)}`);

    // Read back directly from the registry: the bytes went through unchanged.
    const direct = await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`);
    expect(sha256Digest(new Uint8Array(await direct.arrayBuffer()))).toBe(digest);
    expect(p.records().map((r) => [r.method, r.status])).toEqual([
      ["POST", 202],
      ["PUT", 201],
      ["PUT", 201],
    ]);

    // flipByte on a blob GET: same length, the digest check fails.
    p.setRules([{ flipByte: { p: 1 }, match: (r) => r.path.includes("/blobs/") }]);
    const flipped = await fetch(`${p.url}/v2/${repo}/blobs/${digest}`);
    const bytes = new Uint8Array(await flipped.arrayBuffer());
    expect(flipped.status).toBe(200);
    expect(bytes.length).toBe(blob.length);
    expect(sha256Digest(bytes)).not.toBe(digest);
  });

  describe("googleListing", () => {
    const repo = "fp/list";
    // a1 -> A, b2 -> B, c3 -> A, d4 -> C, e5 -> B: digests interleave across pages of 2.
    let byTag: Record<string, Pushed>;
    beforeAll(async () => {
      const a = await pushImage(reg, repo, { tag: "a1", seed: "fault-proxy-a" });
      const b = await pushImage(reg, repo, { tag: "b2", seed: "fault-proxy-b", mediaType: "docker" });
      await pushManifestBytes(reg, repo, "c3", a.mediaType, a.bytes);
      const c = await pushIndex(reg, repo, [a], { tag: "d4" });
      await pushManifestBytes(reg, repo, "e5", b.mediaType, b.bytes);
      byTag = { a1: a, b2: b, c3: a, d4: c, e5: b };
    }, 30_000);

    interface Page {
      name: string;
      tags: string[];
      child: unknown[];
      manifest: Record<string, { tag: string[]; mediaType: string; imageSizeBytes: string; timeCreatedMs: string; timeUploadedMs: string }>;
    }

    async function page(url: string, init: RequestInit = {}): Promise<{ status: number; link: string | null; body: Page }> {
      const res = await fetch(url, init);
      const body = (await res.json()) as Page;
      return { status: res.status, link: res.headers.get("link"), body };
    }

    function expectedMap(tags: string[]): Page["manifest"] {
      const out: Page["manifest"] = {};
      for (const t of tags) {
        const m = byTag[t];
        if (m === undefined) throw new Error(`no image for ${t}`);
        const entry = out[m.digest];
        if (entry) entry.tag.push(t);
        else out[m.digest] = { tag: [t], mediaType: m.mediaType, imageSizeBytes: String(m.bytes.length), timeCreatedMs: "", timeUploadedMs: "" };
      }
      return out;
    }

    function withoutTimes(map: Page["manifest"]): Page["manifest"] {
      const out: Page["manifest"] = {};
      for (const [d, e] of Object.entries(map)) {
        expect(e.timeCreatedMs).toMatch(/^\d{13}$/);
        expect(e.timeUploadedMs).toBe(e.timeCreatedMs);
        out[d] = { ...e, timeCreatedMs: "", timeUploadedMs: "" };
      }
      return out;
    }

    test("paginates 5 tags by 2 with Link rel=next and a digest map per page", async () => {
      const p = await registryProxy(reg, { pageSize: 2 });
      // The upstream itself ignores n: one page of everything, no Link.
      const direct = await page(`${reg.url}/v2/${repo}/tags/list?n=2`);
      expect(direct.body.tags.sort()).toEqual(["a1", "b2", "c3", "d4", "e5"]);
      expect(direct.link).toBeNull();

      await reg.clearLog();
      const pages: Array<{ tags: string[]; link: string | null }> = [];
      let next: string | undefined = `/v2/${repo}/tags/list`;
      for (let i = 0; next !== undefined && i < 10; i++) {
        const got = await page(`${p.url}${next}`);
        expect(got.status).toBe(200);
        expect(got.body.name).toBe(repo);
        expect(got.body.child).toEqual([]);
        expect(withoutTimes(got.body.manifest)).toEqual(expectedMap(got.body.tags));
        pages.push({ tags: got.body.tags, link: got.link });
        next = got.link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(got.link)?.[1];
      }
      expect(pages).toEqual([
        { tags: ["a1", "b2"], link: `</v2/${repo}/tags/list?n=2&last=b2>; rel="next"` },
        { tags: ["c3", "d4"], link: `</v2/${repo}/tags/list?n=2&last=d4>; rel="next"` },
        { tags: ["e5"], link: null },
      ]);
      // Only the client's 3 requests are recorded; the proxy's own HEADs went to the upstream.
      expect(p.records().map((r) => [r.method, r.path, r.status])).toEqual([
        ["GET", `/v2/${repo}/tags/list`, 200],
        ["GET", `/v2/${repo}/tags/list?n=2&last=b2`, 200],
        ["GET", `/v2/${repo}/tags/list?n=2&last=d4`, 200],
      ]);
      expect(await reg.requestCounts()).toEqual({ GET: 3, HEAD: 5 });
    });

    test("explicit n and last; n=0 is empty without Link", async () => {
      const p = await registryProxy(reg, { pageSize: 2 });
      const all = await page(`${p.url}/v2/${repo}/tags/list?n=10`);
      expect(all.body.tags).toEqual(["a1", "b2", "c3", "d4", "e5"]);
      expect(all.link).toBeNull();
      expect(withoutTimes(all.body.manifest)).toEqual(expectedMap(all.body.tags));
      expect(Object.keys(all.body.manifest)).toHaveLength(3);

      const tail = await page(`${p.url}/v2/${repo}/tags/list?last=c3`);
      expect(tail.body.tags).toEqual(["d4", "e5"]);
      expect(tail.link).toBeNull();

      const none = await page(`${p.url}/v2/${repo}/tags/list?n=0`);
      expect(none.body.tags).toEqual([]);
      expect(none.body.manifest).toEqual({});
      expect(none.link).toBeNull();
    });

    test("the client's Authorization reaches the upstream; a 401 passes through unchanged", async () => {
      const basic = `Basic ${Buffer.from(`${basicReg.credentials?.username}:${basicReg.credentials?.password}`).toString("base64")}`;
      const img = await fetch(`${basicReg.url}/v2/`, { headers: { Authorization: basic } });
      await img.arrayBuffer();
      expect(img.status).toBe(200);
      // push two tags straight to the htpasswd registry
      const a = await pushImage(basicReg, "fp/auth", { tag: "x", seed: "fault-proxy-auth" });
      await pushManifestBytes(basicReg, "fp/auth", "y", a.mediaType, a.bytes);

      const p = await registryProxy(basicReg, { pageSize: 1 });
      const denied = await fetch(`${p.url}/v2/fp/auth/tags/list`);
      await denied.arrayBuffer();
      const directDenied = await fetch(`${basicReg.url}/v2/fp/auth/tags/list`);
      await directDenied.arrayBuffer();
      expect(denied.status).toBe(401);
      expect(denied.headers.get("www-authenticate")).toBe(directDenied.headers.get("www-authenticate"));

      const ok = await page(`${p.url}/v2/fp/auth/tags/list`, { headers: { Authorization: basic } });
      expect(ok.status).toBe(200);
      expect(ok.body.tags).toEqual(["x"]);
      expect(Object.keys(ok.body.manifest)).toEqual([a.digest]);
      expect(ok.link).toBe(`</v2/fp/auth/tags/list?n=1&last=x>; rel="next"`);
    });

    test("faults apply to the listing too (429 before any upstream request)", async () => {
      const p = await registryProxy(reg, { pageSize: 2, rules: [{ status429: { p: 1, retryAfter: 1 } }] });
      await reg.clearLog();
      expect(await outcome(`${p.url}/v2/${repo}/tags/list`)).toBe(429);
      expect(await reg.requestCounts()).toEqual({});
    });
  });
});
