// Manifest HEAD, GET and PUT. Every GET is checked against its digest: the one asked for, or the
// one the registry states for a tag. A PUT sends the exact bytes with their media type and checks
// the digest the registry reports.
import type { Descriptor, ManifestBytes } from "./descriptor.ts";
import { digestOf, isDigest } from "./digest.ts";
import { errorFromResponse, requestError } from "./error.ts";
import { bareType, manifestAccept } from "./media-types.ts";
import { checkReference, checkRepository } from "./paths.ts";
import { pull, push, remove } from "./scopes.ts";
import type { Transport } from "./transport.ts";
import type { Action, HttpRequest, OpCounter } from "./types.ts";

function manifestRequest(t: Transport, method: "HEAD" | "GET", host: string, repository: string, reference: string, op?: OpCounter, access: Action = "pull"): HttpRequest {
  checkRepository(host, repository);
  checkReference(host, reference);
  return {
    method,
    url: t.endpoints(host).manifest(repository, reference),
    headers: new Headers({ accept: manifestAccept }),
    subject: { repository, reference },
    scopes: [access === "push" ? push(repository) : pull(repository)],
    maxBodyBytes: t.tuning.maxManifestBytes,
    ...(op ? { op } : {}),
  };
}

function statedDigest(headers: Headers): string | undefined {
  const d = headers.get("docker-content-digest")?.trim();
  return d !== undefined && isDigest(d) ? d : undefined;
}

/** The manifest's `mediaType` field, for registries that send no Content-Type. */
function mediaTypeField(bytes: Uint8Array): string {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const mt = typeof parsed === "object" && parsed !== null ? Reflect.get(parsed, "mediaType") : undefined;
    return typeof mt === "string" ? mt : "";
  } catch {
    return "";
  }
}

export async function headManifest(
  t: Transport,
  host: string,
  repository: string,
  reference: string,
  op?: OpCounter,
  access: Action = "pull",
): Promise<Descriptor | undefined> {
  const req = manifestRequest(t, "HEAD", host, repository, reference, op, access);
  const res = await t.send(req);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw errorFromResponse(req, res);
  const digest = statedDigest(res.headers) ?? (isDigest(reference) ? reference : undefined);
  const mediaType = bareType(res.headers.get("content-type"));
  const size = Number(res.headers.get("content-length") ?? "NaN");
  if (digest === undefined || mediaType === "" || !Number.isFinite(size)) {
    // The spec only says SHOULD for the digest header (v1.1): then the body tells.
    const m = await getManifest(t, host, repository, reference, op);
    return m === undefined ? undefined : { digest: m.digest, mediaType: m.mediaType, size: m.bytes.byteLength };
  }
  return { digest, mediaType, size };
}

export async function getManifest(t: Transport, host: string, repository: string, reference: string, op?: OpCounter): Promise<ManifestBytes | undefined> {
  const req = manifestRequest(t, "GET", host, repository, reference, op);
  const res = await t.send(req);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw errorFromResponse(req, res);
  const expected = isDigest(reference) ? reference : statedDigest(res.headers);
  const actual = await digestOf(res.body, expected);
  if (expected !== undefined && actual !== expected) {
    const what = isDigest(reference) ? "asked for" : "the registry states";
    throw requestError(req, "digest", `content digest is ${actual}, not ${expected} (${what}): refusing it`);
  }
  const mediaType = bareType(res.headers.get("content-type")) || mediaTypeField(res.body);
  return { digest: expected ?? actual, mediaType, bytes: res.body };
}

/** PUTs the bytes unchanged; returns the digest the registry reports (never one that differs from the bytes'). */
export async function putManifest(
  t: Transport,
  host: string,
  repository: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
  op?: OpCounter,
): Promise<string> {
  checkRepository(host, repository);
  checkReference(host, reference);
  const req: HttpRequest = {
    method: "PUT",
    url: t.endpoints(host).manifest(repository, reference),
    headers: new Headers({ "content-type": mediaType }),
    body: bytes,
    subject: { repository, reference },
    scopes: [push(repository)],
    ...(op ? { op } : {}),
  };
  const actual = await digestOf(bytes, isDigest(reference) ? reference : undefined);
  if (isDigest(reference) && actual !== reference) {
    throw requestError(req, "digest", `manifest bytes have digest ${actual}, not ${reference}: not pushed`);
  }
  const res = await t.send(req);
  if (res.status < 200 || res.status >= 300) throw errorFromResponse(req, res);
  const reported = statedDigest(res.headers);
  if (reported !== undefined && reported !== actual) {
    throw requestError(req, "digest", `registry reports digest ${reported} for bytes whose digest is ${actual}`, { status: res.status });
  }
  return reported ?? actual;
}

/**
 * DELETE by digest (every tag on that digest goes with it). True when deleted, false when it was
 * not there; a registry that does not allow deletes throws (405 UNSUPPORTED, 403 DENIED).
 */
export async function deleteManifest(t: Transport, host: string, repository: string, digest: string, op?: OpCounter): Promise<boolean> {
  checkRepository(host, repository);
  checkReference(host, digest);
  const req: HttpRequest = {
    method: "DELETE",
    url: t.endpoints(host).manifest(repository, digest),
    headers: new Headers(),
    subject: { repository, reference: digest },
    scopes: [remove(repository)],
    ...(op ? { op } : {}),
  };
  if (!isDigest(digest)) throw requestError(req, "http", "a manifest is deleted by digest only");
  const res = await t.send(req);
  if (res.status === 404) return false;
  if (res.status < 200 || res.status >= 300) throw errorFromResponse(req, res);
  return true;
}
