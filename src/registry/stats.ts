// Per-host counters for the run's report: every attempt that was sent, by method and outcome.
import { RegistryError } from "./error.ts";
import type { RoundTrip } from "./types.ts";
import { hostOf } from "./types.ts";

export interface HostStats {
  readonly host: string;
  /** Attempts sent (retries, pings, token fetches and redirects each count). */
  readonly requests: number;
  /** method -> attempts. */
  readonly byMethod: Readonly<Record<string, number>>;
  /** outcome -> attempts; the outcome is the status, or `network` / `timeout` when there was none. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** method -> outcome -> attempts. */
  readonly byMethodStatus: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Attempts that repeated an earlier one (5xx, reset, timeout, 429). */
  readonly retries: number;
  /** 429 answers. */
  readonly status429: number;
  /** Time the host was paused (Retry-After, RateLimit, 429 backoff). */
  readonly pausedMs: number;
  /** Body bytes sent plus received. */
  readonly bytes: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Bearer tokens fetched for this registry host (the realm's host counts the request itself). */
  readonly tokenRequests: number;
}

interface Counters {
  requests: number;
  byMethod: Record<string, Record<string, number>>;
  retries: number;
  rateLimited: number;
  bytesSent: number;
  bytesReceived: number;
  tokenRequests: number;
}

export class StatsStore {
  private readonly hosts = new Map<string, Counters>();

  private of(host: string): Counters {
    let c = this.hosts.get(host);
    if (c === undefined) {
      c = { requests: 0, byMethod: {}, retries: 0, rateLimited: 0, bytesSent: 0, bytesReceived: 0, tokenRequests: 0 };
      this.hosts.set(host, c);
    }
    return c;
  }

  attempt(host: string, method: string, outcome: string, sent: number, received: number): void {
    const c = this.of(host);
    c.requests++;
    const m = (c.byMethod[method] ??= {});
    m[outcome] = (m[outcome] ?? 0) + 1;
    if (outcome === "429") c.rateLimited++;
    c.bytesSent += sent;
    c.bytesReceived += received;
  }

  retry(host: string): void {
    this.of(host).retries++;
  }

  tokenRequest(host: string): void {
    this.of(host).tokenRequests++;
  }

  snapshot(pausedMs: (host: string) => number): HostStats[] {
    return [...this.hosts]
      .map(([host, c]) => {
        const byMethod: Record<string, number> = {};
        const byStatus: Record<string, number> = {};
        for (const [m, outcomes] of Object.entries(c.byMethod)) {
          for (const [o, n] of Object.entries(outcomes)) {
            byMethod[m] = (byMethod[m] ?? 0) + n;
            byStatus[o] = (byStatus[o] ?? 0) + n;
          }
        }
        return {
          host,
          requests: c.requests,
          byMethod,
          byStatus,
          byMethodStatus: Object.fromEntries(Object.entries(c.byMethod).map(([m, o]) => [m, { ...o }])),
          retries: c.retries,
          status429: c.rateLimited,
          pausedMs: Math.round(pausedMs(host)),
          bytes: c.bytesSent + c.bytesReceived,
          bytesSent: c.bytesSent,
          bytesReceived: c.bytesReceived,
          tokenRequests: c.tokenRequests,
        };
      })
      .sort((a, b) => a.host.localeCompare(b.host));
  }
}

/** Counts each attempt as it is sent through (below the limiter: what the host actually sees). */
export function statsLayer(next: RoundTrip, store: StatsStore): RoundTrip {
  return async (req) => {
    if (req.op !== undefined) req.op.requests++;
    const host = hostOf(req.url);
    const sent = req.body?.byteLength ?? 0;
    try {
      const res = await next(req);
      store.attempt(host, req.method, String(res.status), sent, res.body.byteLength);
      return res;
    } catch (err) {
      store.attempt(host, req.method, err instanceof RegistryError ? err.kind : "error", sent, 0);
      throw err;
    }
  };
}
