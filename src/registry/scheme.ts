// Which scheme and TLS settings a host gets. Deterministic, from the configuration alone: no
// HTTPS-then-HTTP probing (a probe costs a request and hides misconfiguration).

export interface SchemeConfig {
  /** HOST -> PEM file contents' path; HTTPS verified against that CA (loopback too). */
  readonly caFiles: ReadonlyMap<string, string>;
  /** `HOST` (plain HTTP) or `https://HOST` (HTTPS, certificate not verified). */
  readonly insecure: ReadonlySet<string>;
}

export interface HostTransport {
  readonly scheme: "http" | "https";
  /** Path of the CA bundle to trust instead of the system's. */
  readonly caFile?: string;
  /** False only for `--insecure-registry https://HOST`. */
  readonly verify: boolean;
}

function hostname(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  if (host.indexOf(":") !== host.lastIndexOf(":")) return host; // a bare IPv6 address has no port
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}

/** `localhost`, `127.0.0.0/8` and `::1`, with or without a port. */
export function isLoopback(host: string): boolean {
  const name = hostname(host.toLowerCase()).replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** A per-host setting looked up by `host:port` first, then by the bare host name. */
export function lookupHost<T>(map: ReadonlyMap<string, T>, host: string): T | undefined {
  const h = host.toLowerCase();
  return map.get(h) ?? map.get(hostname(h));
}

/** How `--insecure-registry` names host: `HOST` / `http://HOST` plain HTTP, `https://HOST` unverified TLS. */
function insecureMode(set: ReadonlySet<string>, host: string): "http" | "unverified-tls" | undefined {
  const h = host.toLowerCase();
  const names = [h, hostname(h)];
  if (names.some((n) => set.has(`https://${n}`))) return "unverified-tls";
  if (names.some((n) => set.has(n) || set.has(`http://${n}`))) return "http";
  return undefined;
}

export function transportFor(config: SchemeConfig, host: string): HostTransport {
  const caFile = lookupHost(config.caFiles, host);
  if (caFile !== undefined) return { scheme: "https", caFile, verify: true };
  const insecure = insecureMode(config.insecure, host);
  if (insecure === "unverified-tls") return { scheme: "https", verify: false };
  if (insecure === "http" || isLoopback(host)) return { scheme: "http", verify: true };
  return { scheme: "https", verify: true };
}

export function baseUrl(config: SchemeConfig, host: string): URL {
  return new URL(`${transportFor(config, host).scheme}://${host}/`);
}
