// URLs of the distribution API, with names and references checked before anything is sent.
import { isDigest } from "./digest.ts";
import { RegistryError } from "./error.ts";

const component = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const repositoryPattern = new RegExp(`^${component}(?:/${component})*$`);
const tagPattern = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

function invalid(host: string, what: string, code: string, detail: string): RegistryError {
  return new RegistryError({ host, method: "-", reference: what, kind: "http", code, detail });
}

export function checkRepository(host: string, repository: string): void {
  if (repository.length > 255 || !repositoryPattern.test(repository)) {
    throw invalid(host, repository, "NAME_INVALID", "not a valid repository name");
  }
}

export function checkReference(host: string, reference: string): void {
  if (!isDigest(reference) && !tagPattern.test(reference)) {
    throw invalid(host, reference, "TAG_INVALID", "not a valid tag or digest");
  }
}

export function checkDigest(host: string, digest: string): void {
  if (!isDigest(digest)) throw invalid(host, digest, "DIGEST_INVALID", "not a valid digest");
}

/** Builds `/v2/...` URLs against one host's base (scheme from scheme.ts). */
export class Endpoints {
  constructor(readonly base: URL) {}

  v2(): URL {
    return new URL("/v2/", this.base);
  }
  manifest(repository: string, reference: string): URL {
    return new URL(`/v2/${repository}/manifests/${reference}`, this.base);
  }
  blob(repository: string, digest: string): URL {
    return new URL(`/v2/${repository}/blobs/${digest}`, this.base);
  }
  uploads(repository: string): URL {
    return new URL(`/v2/${repository}/blobs/uploads/`, this.base);
  }
  tags(repository: string): URL {
    return new URL(`/v2/${repository}/tags/list`, this.base);
  }
  referrers(repository: string, digest: string): URL {
    return new URL(`/v2/${repository}/referrers/${digest}`, this.base);
  }
}
