// How registry hosts are named in Docker's config and compared.

/** Docker Hub's many names; docker keeps its credentials under this key. */
const dockerHubKey = "https://index.docker.io/v1/";
const dockerHubAliases = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

/**
 * The host a config key or registry name stands for, as docker's `ConvertToHostname` does:
 * `https://host/v1/`, `http://host`, `host/path` and `HOST` all become `host` (port kept, lowercased).
 * Docker Hub's aliases become `index.docker.io`.
 */
export function normalizeHost(key: string): string {
  let h = key.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(h);
  if (scheme) h = h.slice(scheme[0].length);
  const slash = h.indexOf("/");
  if (slash >= 0) h = h.slice(0, slash);
  h = h.toLowerCase();
  return dockerHubAliases.has(h) ? "index.docker.io" : h;
}

/** What a credential helper is asked for: the bare host, except Docker Hub's historical URL. */
export function helperServerUrl(host: string): string {
  return host === "index.docker.io" ? dockerHubKey : host;
}

function hostname(host: string): string {
  // `[::1]:5000`, `host:5000`, `host`
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}

/**
 * Google's registries: Artifact Registry (`<region>-docker.pkg.dev`, any `*.pkg.dev`) and
 * Container Registry (`gcr.io`, `*.gcr.io`), as go-containerregistry's google keychain decides.
 */
export function isGoogleHost(host: string): boolean {
  const h = hostname(normalizeHost(host));
  return h === "gcr.io" || h.endsWith(".gcr.io") || h.endsWith(".pkg.dev");
}

/** Loopback names: the only hosts a plain-HTTP token endpoint may be on. */
export function isLoopbackHostname(name: string): boolean {
  const h = name.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
