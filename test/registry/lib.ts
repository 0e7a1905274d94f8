// Shared pieces of the registry client's integration tests: a client on the test registries,
// with static credentials (the real credential sources have their own tests).
import type { RegistryConfig } from "../../src/registry/config.ts";
import type { Credential, CredentialProvider } from "../../src/registry/credentials/index.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import type { TestRegistry } from "../harness/index.ts";

export class StaticCredentials implements CredentialProvider {
  readonly asked: string[] = [];
  constructor(private readonly byHost: ReadonlyMap<string, Credential>) {}
  async forHost(host: string): Promise<Credential | undefined> {
    this.asked.push(host);
    return this.byHost.get(host.toLowerCase());
  }
}

export function credentialsFor(registries: readonly (TestRegistry | { host: string; credentials?: { username: string; password: string } })[]): StaticCredentials {
  const m = new Map<string, Credential>();
  for (const r of registries) if (r.credentials) m.set(r.host.toLowerCase(), { ...r.credentials, source: "test" });
  return new StaticCredentials(m);
}

/** Fast-failing settings for tests; override per test. */
export function testConfig(overrides: Partial<RegistryConfig> = {}): RegistryConfig {
  return {
    userAgent: "sigmirror/test",
    rateDefault: 500,
    rates: new Map(),
    concurrencyDefault: 8,
    concurrency: new Map(),
    caFiles: new Map(),
    insecure: new Set(),
    credentials: new StaticCredentials(new Map()),
    attemptTimeoutMs: 5000,
    stallTimeoutMs: 1000,
    retryBaseMs: 50,
    retryMaxMs: 400,
    ...overrides,
  };
}

const clients: RegistryClient[] = [];
export function client(overrides: Partial<RegistryConfig> = {}): RegistryClient {
  const c = new RegistryClient(testConfig(overrides));
  clients.push(c);
  return c;
}
export function closeClients(): void {
  for (const c of clients.splice(0)) c.close();
}

export function totalRequests(c: RegistryClient, host: string): number {
  return c.stats().find((s) => s.host === host.toLowerCase())?.requests ?? 0;
}

import type { ProxyRequestRecord } from "../harness/index.ts";

/**
 * Requests that arrived while a Retry-After was in force, leaving out those that were already
 * on their way: arrivals within `inFlightMs` of the 429/503 going out were sent before the client
 * could have read it (the proxy and the client share one event loop, and up to concurrency-1
 * requests are in flight). A client that ignores Retry-After sends in the rest of the window.
 */
export function sentDuringRetryAfter(records: readonly ProxyRequestRecord[], inFlightMs: number, boundaryMs = 0): ProxyRequestRecord[] {
  const pauses = records.filter((r) => r.retryAfterUntil !== undefined && r.respondedAt !== undefined);
  return records.filter((r) =>
    pauses.some((p) => p !== r && r.arrivedAt >= (p.respondedAt ?? Infinity) + inFlightMs && r.arrivedAt < (p.retryAfterUntil ?? -Infinity) - boundaryMs),
  );
}
