// Blob HEAD and GET; a GET's bytes are checked against the digest (and size) before anyone sees them.
import type { Descriptor } from "./descriptor.ts";
import { digestOf } from "./digest.ts";
import { errorFromResponse, requestError } from "./error.ts";
import { bareType } from "./media-types.ts";
import { checkDigest, checkRepository } from "./paths.ts";
import { pull, push } from "./scopes.ts";
import type { Transport } from "./transport.ts";
import type { Action, HttpRequest, OpCounter } from "./types.ts";

/** `access` "push": ask for the token the caller needs next anyway (a HEAD before an upload). */
function blobRequest(t: Transport, method: "HEAD" | "GET", host: string, repository: string, digest: string, op?: OpCounter, access: Action = "pull"): HttpRequest {
  checkRepository(host, repository);
  checkDigest(host, digest);
  return {
    method,
    url: t.endpoints(host).blob(repository, digest),
    headers: new Headers({ accept: "*/*" }),
    subject: { repository, reference: digest },
    scopes: [access === "push" ? push(repository) : pull(repository)],
    ...(op ? { op } : {}),
  };
}

export async function headBlob(t: Transport, host: string, repository: string, digest: string, op?: OpCounter, access: Action = "pull"): Promise<Descriptor | undefined> {
  const req = blobRequest(t, "HEAD", host, repository, digest, op, access);
  const res = await t.send(req);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw errorFromResponse(req, res);
  const size = Number(res.headers.get("content-length") ?? "NaN");
  return { digest, mediaType: bareType(res.headers.get("content-type")) || "application/octet-stream", size: Number.isFinite(size) ? size : -1 };
}

/** The blob's bytes, verified; undefined when the registry does not have it. */
export async function getBlob(t: Transport, host: string, repository: string, digest: string, size?: number, op?: OpCounter): Promise<Uint8Array | undefined> {
  const req = { ...blobRequest(t, "GET", host, repository, digest, op), ...(size !== undefined && size >= 0 ? { maxBodyBytes: size } : {}) };
  const res = await t.send(req);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw errorFromResponse(req, res);
  if (size !== undefined && size >= 0 && res.body.byteLength !== size) {
    throw requestError(req, "digest", `blob is ${res.body.byteLength} bytes, the manifest says ${size}: refusing it`);
  }
  const actual = await digestOf(res.body, digest);
  if (actual !== digest) throw requestError(req, "digest", `blob content digest is ${actual}: refusing it`);
  return res.body;
}
