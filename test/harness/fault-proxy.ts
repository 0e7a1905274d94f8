// A fault-injecting HTTP/1.1 reverse proxy for tests. It listens with Bun.listen (raw TCP) so it
// can reset a connection or stall mid-body, parses requests itself (Content-Length and chunked
// bodies, keep-alive), and forwards each request with fetch to the upstream registry.
//
// Faults are drawn per request from a seeded PRNG in request-arrival order, so a sequential
// client sees the same faults for the same seed. Every matching rule draws the same count of
// numbers whatever the outcome, so changing one probability does not shift the others' draws.
import type { Socket, TCPSocketListener } from "bun";
import { GoogleListing, tagsListName, type GoogleListingOptions } from "./google-listing.ts";

export interface FaultRule {
  status429?: { p: number; retryAfter?: number | "http-date"; seconds?: number };
  status5xx?: { p: number; status?: number; retryAfter?: number };
  reset?: { p: number };
  stallBody?: { p: number; afterBytes?: number };
  latencyMs?: number | { min: number; max: number };
  flipByte?: { p: number };
  /**
   * Answer every matching request with this instead of the upstream's answer (a registry that
   * lies: a tag list answering 404 or `{"tags": null}`). Draws nothing: the other rules' draws stay.
   */
  respond?: { status: number; body: string };
  /** `path` is the request target as sent: path plus query. Default: every request. */
  match?: (req: { method: string; path: string }) => boolean;
}

export type FaultName = "status429" | "status5xx" | "reset" | "stallBody" | "flipByte" | "respond" | "upstream-error";

export interface ProxyRequestRecord {
  readonly method: string;
  /** The request target as sent: path plus query. */
  readonly path: string;
  /** performance.timeOrigin + performance.now() when the request head was parsed. */
  readonly arrivedAt: number;
  /** "pending": no answer yet, or the client left before its request body was complete. */
  status: number | "reset" | "stall" | "pending";
  fault?: FaultName;
  /**
   * For a 429/5xx sent with Retry-After: the time before which the client must not come back.
   * Seconds form: respondedAt + seconds. HTTP-date form: the date itself (whole seconds, rounded
   * up from now + seconds), so assertions on how long a client waited should allow the boundary
   * second.
   */
  retryAfterUntil?: number;
  /** When the answer (or the reset) went out. */
  respondedAt?: number;
}

export interface FaultProxy {
  readonly host: string;
  readonly url: string;
  setRules(rules: FaultRule[]): void;
  records(): ProxyRequestRecord[];
  clear(): void;
  /** Max count of requests arriving in any half-open window [t, t + windowMs). */
  peakPerWindow(windowMs?: number): number;
  /**
   * Requests that arrived after a Retry-After answer went out and before its retryAfterUntil
   * (every request counts: one proxy is one host). `graceMs` forgives arrivals that early.
   */
  violationsOfRetryAfter(graceMs?: number): ProxyRequestRecord[];
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface FaultProxyOptions {
  readonly upstream: string;
  readonly seed?: number;
  readonly rules?: FaultRule[];
  readonly googleListing?: GoogleListingOptions;
  /** Where to listen; default a random 127.x.y.z and a kernel-chosen port. */
  readonly listen?: { readonly ip?: string; readonly port?: number };
}

const maxHeadBytes = 64 * 1024;
const maxBodyBytes = 256 * 1024 * 1024;
const maxRecords = 200_000;
const maxStallMs = 10 * 60_000;
const upstreamTimeoutMs = 60_000;
const defaultSeed = 0x5eed;
const defaultHttpDateSeconds = 1;
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
  "content-length",
  "expect",
]);

const now = (): number => performance.timeOrigin + performance.now();

/** mulberry32: tiny, seedable, good enough to draw fault decisions (and the benches' data). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomLoopbackIp(): string {
  const b = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));
  return `127.${b(1, 254)}.${b(0, 255)}.${b(1, 254)}`;
}

// ---------------------------------------------------------------------------------------------
// Fault decisions

type Fault =
  | { kind: "status429"; retryAfter?: number | "http-date"; seconds: number }
  | { kind: "status5xx"; status: number; retryAfter?: number }
  | { kind: "reset" }
  | { kind: "stallBody"; afterBytes?: number }
  | { kind: "flipByte"; at: number }
  | { kind: "respond"; status: number; body: string };

interface Decision {
  fault?: Fault;
  latencyMs: number;
}

function checkRule(rule: FaultRule): void {
  const ps: Array<[string, number | undefined]> = [
    ["status429", rule.status429?.p],
    ["status5xx", rule.status5xx?.p],
    ["reset", rule.reset?.p],
    ["stallBody", rule.stallBody?.p],
    ["flipByte", rule.flipByte?.p],
  ];
  for (const [name, p] of ps) {
    if (p !== undefined && !(p >= 0 && p <= 1)) throw new Error(`fault rule ${name}.p must be in [0, 1], got ${p}`);
  }
  const l = rule.latencyMs;
  if (typeof l === "number" ? !(l >= 0) : l !== undefined && !(l.min >= 0 && l.max >= l.min)) {
    throw new Error(`fault rule latencyMs must be >= 0 (min <= max)`);
  }
}

/** Draws 7 numbers per matching rule; the first fault that fires (rule order, then field order) wins. */
function decide(rules: readonly FaultRule[], random: () => number, req: { method: string; path: string }): Decision {
  let fault: Fault | undefined;
  let latencyMs = 0;
  for (const rule of rules) {
    if (rule.match !== undefined && !rule.match(req)) continue;
    const [d429, d5xx, dReset, dStall, dFlip, dFlipAt, dLatency] = Array.from({ length: 7 }, random) as [
      number, number, number, number, number, number, number,
    ];
    const l = rule.latencyMs;
    if (typeof l === "number") latencyMs += l;
    else if (l !== undefined) latencyMs += l.min + dLatency * (l.max - l.min);
    if (fault !== undefined) continue;
    if (rule.respond !== undefined) {
      fault = { kind: "respond", ...rule.respond };
      continue;
    }
    const r429 = rule.status429;
    const r5xx = rule.status5xx;
    if (r429 !== undefined && d429 < r429.p) {
      fault = { kind: "status429", seconds: r429.seconds ?? defaultHttpDateSeconds };
      if (r429.retryAfter !== undefined) fault.retryAfter = r429.retryAfter;
    } else if (r5xx !== undefined && d5xx < r5xx.p) {
      fault = { kind: "status5xx", status: r5xx.status ?? 503 };
      if (r5xx.retryAfter !== undefined) fault.retryAfter = r5xx.retryAfter;
    } else if (rule.reset !== undefined && dReset < rule.reset.p) {
      fault = { kind: "reset" };
    } else if (rule.stallBody !== undefined && dStall < rule.stallBody.p) {
      fault = { kind: "stallBody" };
      if (rule.stallBody.afterBytes !== undefined) fault.afterBytes = rule.stallBody.afterBytes;
    } else if (rule.flipByte !== undefined && dFlip < rule.flipByte.p) {
      fault = { kind: "flipByte", at: dFlipAt };
    }
  }
  return fault === undefined ? { latencyMs } : { fault, latencyMs };
}

// ---------------------------------------------------------------------------------------------
// Records

export function peakPerWindow(records: readonly ProxyRequestRecord[], windowMs = 1000): number {
  const t = records.map((r) => r.arrivedAt).sort((a, b) => a - b);
  let peak = 0;
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    const start = t[i] ?? 0;
    if (j < i) j = i;
    while (j < t.length && (t[j] ?? Infinity) < start + windowMs) j++;
    peak = Math.max(peak, j - i);
  }
  return peak;
}

export function violationsOfRetryAfter(records: readonly ProxyRequestRecord[], graceMs = 0): ProxyRequestRecord[] {
  const senders = records.filter((r) => r.retryAfterUntil !== undefined && r.respondedAt !== undefined);
  return records.filter((r) =>
    senders.some(
      (s) =>
        s !== r &&
        r.arrivedAt >= (s.respondedAt ?? Infinity) &&
        r.arrivedAt < (s.retryAfterUntil ?? -Infinity) - graceMs,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Bytes in, bytes out

class ByteQueue {
  private buf = new Uint8Array(16 * 1024);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  push(data: Uint8Array): void {
    if (this.end + data.length > this.buf.length) {
      const live = this.length;
      if (live + data.length <= this.buf.length / 2) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let size = this.buf.length * 2;
        while (size < live + data.length) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(data, this.end);
    this.end += data.length;
  }

  /** Index (relative to the unread start) of `needle`, or -1. */
  indexOf(needle: string, from = 0): number {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + this.start, this.length).indexOf(needle, from, "latin1");
  }

  take(n: number): Uint8Array {
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
    return out;
  }
}

type ProxySocket = Socket<Conn | undefined>;

class Conn {
  readonly input = new ByteQueue();
  /** No byte received yet: the first one tells a TLS handshake from an HTTP request. */
  fresh = true;
  closed = false;
  private wake: (() => void) | undefined;
  private readonly out: Uint8Array[] = [];
  private flushedWaiters: Array<() => void> = [];
  private closeWaiters: Array<() => void> = [];

  constructor(readonly socket: ProxySocket) {}

  onData(data: Uint8Array): void {
    this.input.push(data);
    this.notify();
  }

  onClose(): void {
    this.closed = true;
    this.notify();
    this.out.length = 0;
    for (const w of this.flushedWaiters.splice(0)) w();
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Resolves on new input or close; false once closed. */
  async more(): Promise<boolean> {
    if (this.closed) return false;
    await new Promise<void>((resolve) => (this.wake = resolve));
    return !this.closed || this.input.length > 0;
  }

  closedOr(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Queues bytes and resolves once the kernel took them all (or the socket closed). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (bytes.length > 0) this.out.push(bytes);
    return new Promise<void>((resolve) => {
      this.flushedWaiters.push(resolve);
      this.flush();
    });
  }

  flush(): void {
    while (this.out.length > 0) {
      const head = this.out[0];
      if (head === undefined) break;
      const n = this.socket.write(head);
      if (n < 0) {
        this.onClose();
        return;
      }
      if (n < head.length) {
        this.out[0] = head.subarray(n);
        return; // the drain handler calls flush again
      }
      this.out.shift();
    }
    for (const w of this.flushedWaiters.splice(0)) w();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 request parsing

interface RequestHead {
  method: string;
  target: string;
  version: string;
  headers: Array<[string, string]>;
}

class BadRequest extends Error {}

function header(head: RequestHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  return head.headers.find(([k]) => k.toLowerCase() === lower)?.[1];
}

async function readHead(conn: Conn): Promise<RequestHead | undefined> {
  for (;;) {
    // Tolerate stray CRLFs between requests (RFC 9112 §2.2).
    while (conn.input.length >= 2 && conn.input.indexOf("\r\n") === 0) conn.input.take(2);
    const end = conn.input.indexOf("\r\n\r\n");
    if (end >= 0) {
      const text = new TextDecoder("latin1").decode(conn.input.take(end + 4)).slice(0, end);
      return parseHead(text);
    }
    if (conn.input.length > maxHeadBytes) throw new BadRequest("request head too large");
    if (!(await conn.more())) return undefined;
  }
}

function parseHead(text: string): RequestHead {
  const [line = "", ...rest] = text.split("\r\n");
  const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(line);
  if (m === null) throw new BadRequest("bad request line");
  const headers: Array<[string, string]> = [];
  for (const h of rest) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new BadRequest("bad header line");
    headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
  }
  return { method: m[1] ?? "", target: m[2] ?? "", version: m[3] ?? "", headers };
}

async function readExactly(conn: Conn, n: number): Promise<Uint8Array | undefined> {
  while (conn.input.length < n) if (!(await conn.more())) return undefined;
  return conn.input.take(n);
}

async function readLine(conn: Conn): Promise<string | undefined> {
  for (;;) {
    const end = conn.input.indexOf("\r\n");
    if (end >= 0) return new TextDecoder("latin1").decode(conn.input.take(end + 2)).slice(0, end);
    if (conn.input.length > maxHeadBytes) throw new BadRequest("chunk line too long");
    if (!(await conn.more())) return undefined;
  }
}

/** The request body (empty when none); undefined if the client left before it was complete. */
async function readBody(conn: Conn, head: RequestHead): Promise<Uint8Array | undefined> {
  const te = header(head, "transfer-encoding");
  if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const line = await readLine(conn);
      if (line === undefined) return undefined;
      const size = Number.parseInt(line.split(";")[0] ?? "", 16);
      if (!Number.isFinite(size) || size < 0) throw new BadRequest("bad chunk size");
      if (size === 0) break;
      total += size;
      if (total > maxBodyBytes) throw new BadRequest("request body too large");
      const chunk = await readExactly(conn, size + 2);
      if (chunk === undefined) return undefined;
      parts.push(chunk.subarray(0, size));
    }
    for (;;) {
      const trailer = await readLine(conn);
      if (trailer === undefined) return undefined;
      if (trailer === "") break;
    }
    return Buffer.concat(parts);
  }
  const cl = header(head, "content-length");
  if (cl === undefined) return new Uint8Array(0);
  if (!/^\d+$/.test(cl)) throw new BadRequest("bad content-length");
  const n = Number(cl);
  if (n > maxBodyBytes) throw new BadRequest("request body too large");
  return readExactly(conn, n);
}

// ---------------------------------------------------------------------------------------------
// Responses

interface Outgoing {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
  /** HEAD, 1xx, 204, 304: the body is not sent and Content-Length comes from the upstream. */
  bodyless: boolean;
}

const reasons: Record<number, string> = { 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };

function serializeHead(o: Outgoing, close: boolean): Uint8Array {
  const lines = [`HTTP/1.1 ${o.status} ${o.statusText || reasons[o.status] || "Status"}`];
  for (const [k, v] of o.headers) lines.push(`${k}: ${v}`);
  if (!o.bodyless) lines.push(`Content-Length: ${o.body.length}`);
  if (close) lines.push("Connection: close");
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

function errorResponse(status: number, code: string, message: string, extra: Array<[string, string]>): Outgoing {
  const body = Buffer.from(JSON.stringify({ errors: [{ code, message, detail: null }] }));
  return {
    status,
    statusText: "",
    headers: [["Content-Type", "application/json"], ["Date", new Date().toUTCString()], ...extra],
    body,
    bodyless: false,
  };
}

// ---------------------------------------------------------------------------------------------
// The proxy

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(opts.upstream);
  if (upstream.protocol !== "http:") throw new Error(`fault proxy upstream must be http://host:port, got ${opts.upstream}`);
  const upstreamOrigin = upstream.origin;
  let rules = opts.rules ?? [];
  rules.forEach(checkRule);
  const random = prng(opts.seed ?? defaultSeed);
  const listing = opts.googleListing === undefined ? undefined : new GoogleListing(upstreamOrigin, opts.googleListing);
  let log: ProxyRequestRecord[] = [];
  const conns = new Set<Conn>();
  const stopping = new AbortController();
  let stopped = false;

  const socketHandlers = {
    open(socket: ProxySocket): void {
      const conn = new Conn(socket);
      socket.data = conn;
      conns.add(conn);
      void serve(conn);
    },
    data(socket: ProxySocket, data: Buffer): void {
      // A TLS ClientHello (go-containerregistry tries HTTPS first on plain-HTTP hosts): answer as a
      // plain-HTTP Go server does, 400 at once, so the client falls back now, not after a timeout.
      if (socket.data?.fresh === true && data[0] === 0x16) {
        socket.write("HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        socket.end();
        return;
      }
      if (socket.data !== undefined) socket.data.fresh = false;
      socket.data?.onData(data);
    },
    drain(socket: ProxySocket): void {
      socket.data?.flush();
    },
    close(socket: ProxySocket): void {
      const conn = socket.data;
      if (conn === undefined) return;
      conns.delete(conn);
      conn.onClose();
    },
    error(socket: ProxySocket): void {
      socket.data?.onClose();
    },
  };

  let listener: TCPSocketListener<Conn | undefined> | undefined;
  for (let attempt = 0; listener === undefined; attempt++) {
    try {
      listener = Bun.listen<Conn | undefined>({
        hostname: opts.listen?.ip ?? randomLoopbackIp(),
        port: opts.listen?.port ?? 0,
        data: undefined,
        socket: socketHandlers,
      });
    } catch (e) {
      if (attempt >= 4 || opts.listen?.ip !== undefined) throw e;
    }
  }
  const host = `${listener.hostname}:${listener.port}`;
  const proxyOrigin = `http://${host}`;

  function record(r: ProxyRequestRecord): void {
    if (log.length >= maxRecords) log.splice(0, log.length - maxRecords + 1);
    log.push(r);
  }

  async function serve(conn: Conn): Promise<void> {
    try {
      while (!conn.closed && !stopped) {
        const head = await readHead(conn);
        if (head === undefined) break;
        const rec: ProxyRequestRecord = { method: head.method, path: head.target, arrivedAt: now(), status: "pending" };
        record(rec);
        const decision = decide(rules, random, { method: head.method, path: head.target });
        if (/^100-continue$/i.test(header(head, "expect") ?? "")) await conn.write(Buffer.from("HTTP/1.1 100 Continue\r\n\r\n"));
        const body = await readBody(conn, head);
        if (body === undefined) break;
        const keepOpen = await answer(conn, head, body, rec, decision);
        if (!keepOpen) break;
      }
    } catch (e) {
      if (e instanceof BadRequest && !conn.closed) {
        const bad = errorResponse(400, "BAD_REQUEST", e.message, []);
        await conn.write(Buffer.concat([serializeHead(bad, true), bad.body]));
      } else if (!(e instanceof BadRequest) && !stopped) {
        console.error("fault proxy:", e);
      }
    } finally {
      if (!conn.closed) conn.socket.end();
    }
  }

  async function sleep(ms: number): Promise<void> {
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stopping.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Returns whether the connection stays open for another request. */
  async function answer(conn: Conn, head: RequestHead, body: Uint8Array, rec: ProxyRequestRecord, d: Decision): Promise<boolean> {
    const close = head.version === "HTTP/1.0" || /(^|,)\s*close\s*(,|$)/i.test(header(head, "connection") ?? "");
    await sleep(d.latencyMs);
    if (stopped || conn.closed) return false;
    const f = d.fault;

    if (f?.kind === "reset") {
      rec.status = "reset";
      rec.fault = "reset";
      rec.respondedAt = now();
      conn.socket.terminate();
      return false;
    }
    if (f?.kind === "status429" || f?.kind === "status5xx") {
      const extra: Array<[string, string]> = [];
      const sentAt = now();
      if (f.kind === "status429" && f.retryAfter === "http-date") {
        const date = Math.ceil((Date.now() + f.seconds * 1000) / 1000) * 1000;
        extra.push(["Retry-After", new Date(date).toUTCString()]);
        rec.retryAfterUntil = date;
      } else if (typeof f.retryAfter === "number") {
        extra.push(["Retry-After", String(f.retryAfter)]);
        rec.retryAfterUntil = sentAt + f.retryAfter * 1000;
      }
      const status = f.kind === "status429" ? 429 : f.status;
      const out =
        f.kind === "status429"
          ? errorResponse(status, "TOOMANYREQUESTS", "injected by fault proxy", extra)
          : errorResponse(status, "UNAVAILABLE", "injected by fault proxy", extra);
      rec.status = status;
      rec.fault = f.kind;
      rec.respondedAt = sentAt;
      await conn.write(Buffer.concat([serializeHead(out, close), out.body]));
      return !close;
    }

    if (f?.kind === "respond") {
      const canned: Outgoing = {
        status: f.status,
        statusText: "",
        headers: [["Content-Type", "application/json"], ["Date", new Date().toUTCString()]],
        body: Buffer.from(f.body),
        bodyless: head.method === "HEAD",
      };
      rec.status = f.status;
      rec.fault = "respond";
      rec.respondedAt = now();
      await conn.write(canned.bodyless ? serializeHead(canned, close) : Buffer.concat([serializeHead(canned, close), canned.body]));
      return !close;
    }

    let out: Outgoing;
    try {
      out = await fromUpstream(head, body);
    } catch (e) {
      if (stopped) return false;
      out = errorResponse(502, "UNAVAILABLE", `fault proxy: upstream failed: ${e instanceof Error ? e.message : String(e)}`, []);
      rec.fault = "upstream-error";
    }
    if (stopped || conn.closed) return false;

    if (f?.kind === "stallBody") {
      rec.status = "stall";
      rec.fault = "stallBody";
      rec.respondedAt = now();
      // With no body to cut, the stall comes before the status line.
      if (!out.bodyless && out.body.length > 0) {
        const cut = Math.min(f.afterBytes ?? Math.floor(out.body.length / 2), out.body.length - 1);
        await conn.write(Buffer.concat([serializeHead(out, close), out.body.subarray(0, cut)]));
      }
      await conn.closedOr(maxStallMs);
      return false;
    }
    if (f?.kind === "flipByte" && !out.bodyless && out.body.length > 0) {
      const flipped = new Uint8Array(out.body);
      const at = Math.floor(f.at * flipped.length);
      flipped[at] = (flipped[at] ?? 0) ^ 0xff;
      out.body = flipped;
      rec.fault = "flipByte";
    }
    rec.status = out.status;
    rec.respondedAt = now();
    await conn.write(out.bodyless ? serializeHead(out, close) : Buffer.concat([serializeHead(out, close), out.body]));
    return !close;
  }

  function forwardHeaders(head: RequestHead): Headers {
    const h = new Headers();
    for (const [k, v] of head.headers) if (!hopByHop.has(k.toLowerCase())) h.append(k, v);
    // fetch would otherwise ask for gzip on behalf of a client that did not.
    if (!h.has("accept-encoding")) h.set("Accept-Encoding", "identity");
    return h;
  }

  async function fromUpstream(head: RequestHead, body: Uint8Array): Promise<Outgoing> {
    const headers = forwardHeaders(head);
    const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout(upstreamTimeoutMs)]);
    const target = new URL(head.target, upstreamOrigin);
    const name = head.method === "GET" ? tagsListName(target.pathname) : undefined;
    const res =
      listing !== undefined && name !== undefined
        ? await listing.respond(name, target.searchParams, headers, signal)
        : await fetch(`${upstreamOrigin}${target.pathname}${target.search}`, {
            method: head.method,
            headers,
            body: head.method === "GET" || head.method === "HEAD" ? undefined : body,
            redirect: "manual",
            decompress: false,
            proxy: false,
            signal,
          });
    const bodyless = head.method === "HEAD" || res.status < 200 || res.status === 204 || res.status === 304;
    const resBody = bodyless ? new Uint8Array(0) : new Uint8Array(await res.arrayBuffer());
    if (bodyless) await res.body?.cancel();
    const out: Array<[string, string]> = [];
    for (const [k, v] of res.headers) {
      const lower = k.toLowerCase();
      if (hopByHop.has(lower) && !(bodyless && lower === "content-length")) continue;
      out.push([k, rewriteHeader(lower, v)]);
    }
    return { status: res.status, statusText: res.statusText, headers: out, body: resBody, bodyless };
  }

  function rewriteHeader(lowerName: string, value: string): string {
    if (lowerName === "location" && (value === upstreamOrigin || value.startsWith(`${upstreamOrigin}/`))) {
      return proxyOrigin + value.slice(upstreamOrigin.length);
    }
    if (lowerName === "www-authenticate") {
      return value.replace(/realm="([^"]*)"/i, (whole, realm: string) => {
        try {
          const u = new URL(realm);
          return u.host === upstream.host ? `realm="${proxyOrigin}${u.pathname}${u.search}"` : whole;
        } catch {
          return whole;
        }
      });
    }
    return value;
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    stopping.abort();
    listener?.stop(true);
    for (const conn of conns) conn.socket.terminate();
    conns.clear();
  }

  return {
    host,
    url: proxyOrigin,
    setRules(next: FaultRule[]): void {
      next.forEach(checkRule);
      rules = next;
    },
    records: () => log.map((r) => ({ ...r })),
    clear(): void {
      log = [];
    },
    peakPerWindow: (windowMs = 1000) => peakPerWindow(log, windowMs),
    violationsOfRetryAfter: (graceMs = 0) => violationsOfRetryAfter(log, graceMs).map((r) => ({ ...r })),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
