// The OCI grammars a manifest must respect (distribution/reference and the distribution spec).

/** One path component: lowercase alphanumerics joined by `.`, `_`, `__` or runs of `-`. */
const component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const repositoryPathRe = new RegExp(`^${component}(?:/${component})*$`);

const label = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const hostRe = new RegExp(`^(?:${label}(?:\\.${label})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);

const digestRe = /^sha256:[0-9a-f]{64}$/;
const tagRe = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** A digest any registry can hold: `sha256:` plus 64 lowercase hex. */
export function isDigest(text: string): boolean {
  return digestRe.test(text);
}

/** An OCI tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`. */
export function isTag(text: string): boolean {
  return tagRe.test(text);
}

/** A repository path (or image name): `/`-joined lowercase components, none empty or `..`. */
export function isRepositoryPath(text: string): boolean {
  return repositoryPathRe.test(text);
}

/** `host[:port]`, a DNS name or bracketed IPv6 literal, written as given. */
export function isHost(text: string): boolean {
  if (!hostRe.test(text)) return false;
  const port = /:([0-9]+)$/.exec(text)?.[1];
  return port === undefined || text.endsWith("]") || Number(port) <= 65535;
}

export interface RegistryName {
  /** As written in the manifest, port included. */
  readonly host: string;
  /** The repository path below the host, e.g. `k8s-artifacts-prod/images/charts`. */
  readonly path: string;
}

/** Splits a destination registry `host[:port]/path`; a string saying what is wrong otherwise. */
export function parseRegistryName(name: string): RegistryName | string {
  if (name === "") return "empty registry name";
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(name)) return "a scheme is not allowed; expected host[:port]/path";
  const slash = name.indexOf("/");
  if (slash < 0) return "no repository path; expected host[:port]/path";
  const host = name.slice(0, slash);
  const path = name.slice(slash + 1);
  if (host === "") return "empty host; expected host[:port]/path";
  if (!isHost(host)) return `host ${JSON.stringify(host)} is not host[:port]`;
  if (path === "") return "empty repository path; expected host[:port]/path";
  if (!isRepositoryPath(path)) {
    return `repository path ${JSON.stringify(path)} is outside the OCI name grammar (lowercase components, none empty)`;
  }
  return { host, path };
}

/** Why a digest key is not a digest, for the warning line. */
export function digestProblem(text: string): string {
  if (!text.startsWith("sha256:")) return "not a digest: expected sha256: plus 64 lowercase hex";
  const hex = text.slice("sha256:".length);
  if (!/^[0-9a-fA-F]*$/.test(hex)) return "not 64 lowercase hex: holds a character that is not hex";
  if (hex.length !== 64) return `not 64 lowercase hex: ${hex.length} hex characters`;
  return "not 64 lowercase hex: uppercase hex";
}
