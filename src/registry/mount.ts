// Cross-repository mount, within one host: 201 means the blob is now in the repository; 202
// means the registry opened an upload session instead, into which the bytes then go.
import { digestOf } from "./digest.ts";
import { errorFromResponse, requestError } from "./error.ts";
import { checkDigest, checkRepository } from "./paths.ts";
import { pull, push } from "./scopes.ts";
import type { Transport } from "./transport.ts";
import type { OpCounter } from "./types.ts";
import { openRequest, putIntoSession, sessionUrl, uploadBlob } from "./upload.ts";

export type MountResult = "mounted" | "uploaded" | "not-mounted";

/**
 * Mounts digest from `from` into repository on host. On a 202 the bytes from `source` (when
 * given) are put into the session the registry opened; without a source, "not-mounted".
 */
export async function mountBlob(
  t: Transport,
  host: string,
  repository: string,
  digest: string,
  from: string,
  source?: () => Promise<Uint8Array | undefined>,
  op?: OpCounter,
): Promise<MountResult> {
  checkRepository(host, repository);
  checkRepository(host, from);
  checkDigest(host, digest);
  const open = openRequest(t, host, repository, [push(repository), pull(from)], { mount: digest, from }, op);
  const res = await t.send(open);
  if (res.status === 201) return "mounted";
  if (res.status !== 202) throw errorFromResponse(open, res, `mounting from ${from}`);
  if (source === undefined) return "not-mounted";
  const bytes = await source();
  if (bytes === undefined) throw requestError(open, "http", `blob not found in ${from} to upload`, { status: 404 });
  if ((await digestOf(bytes, digest)) !== digest) throw requestError(open, "digest", "source bytes do not match the digest: not pushed");
  const outcome = await putIntoSession(t, sessionUrl(res, open, digest), repository, digest, bytes, op);
  if (outcome !== undefined) await uploadBlob(t, host, repository, digest, bytes, op);
  return "uploaded";
}
