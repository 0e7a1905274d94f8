// Every operation of the client against real distribution registries: anonymous, htpasswd,
// token auth, and TLS (through --registry-ca), each as source and target.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  blobExists,
  createTestCA,
  pushImage,
  pushIndex,
  pushManifestBytes,
  pushSignature,
  readManifest,
  sigTag,
  startRegistry,
  type TestRegistry,
} from "../harness/index.ts";
import { digestOf } from "../../src/registry/digest.ts";
import { RegistryError } from "../../src/registry/error.ts";
import type { RegistryClient } from "../../src/registry/client.ts";
import { client, closeClients, credentialsFor } from "./lib.ts";

type Flavour = "anonymous" | "htpasswd" | "token" | "tls";

const enc = (s: string) => new TextEncoder().encode(s);

describe.each<Flavour>(["anonymous", "htpasswd", "token", "tls"])("%s registries", (flavour) => {
  let src: TestRegistry;
  let dst: TestRegistry;
  let c: RegistryClient;

  beforeAll(async () => {
    const options = flavour === "tls" ? { auth: "htpasswd" as const, tls: true } : { auth: flavour };
    [src, dst] = await Promise.all([startRegistry(options), startRegistry(options)]);
    const caFiles = new Map<string, string>();
    for (const r of [src, dst]) if (r.caFile) caFiles.set(r.host, r.caFile);
    c = client({ credentials: credentialsFor([src, dst]), caFiles });
  });
  afterAll(async () => {
    closeClients();
    await Promise.all([src?.stop(), dst?.stop()]);
  });

  test("ping", async () => {
    await c.ping(src.host);
  });

  test("manifest HEAD and GET by tag and digest; unknown tag, digest or repository is undefined", async () => {
    const oci = await pushImage(src, "ops/head", { tag: "v1" });
    const docker = await pushImage(src, "ops/head", { tag: "d1", mediaType: "docker" });
    expect(await c.headManifest(src.host, "ops/head", "v1")).toEqual({ digest: oci.digest, mediaType: oci.mediaType, size: oci.bytes.length });
    expect((await c.headManifest(src.host, "ops/head", docker.digest))?.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const got = await c.getManifest(src.host, "ops/head", "v1");
    expect(got?.digest).toBe(oci.digest);
    expect(got?.bytes).toEqual(oci.bytes);
    expect((await c.getManifest(src.host, "ops/head", docker.digest))?.bytes).toEqual(docker.bytes);
    expect(await c.headManifest(src.host, "ops/head", "nope")).toBeUndefined();
    expect(await c.getManifest(src.host, "ops/head", `sha256:${"0".repeat(64)}`)).toBeUndefined();
    expect(await c.headManifest(src.host, "ops/never-pushed", "v1")).toBeUndefined();
  });

  test("blob upload, HEAD, GET; manifest PUT of the exact bytes", async () => {
    const layer = enc(`layer ${flavour} ${Math.random()}`);
    const config = enc(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
    const [ld, cd] = await Promise.all([digestOf(layer), digestOf(config)]);
    expect(await c.headBlob(dst.host, "ops/put", ld)).toBeUndefined();
    await c.uploadBlob(dst.host, "ops/put", ld, layer);
    await c.uploadBlob(dst.host, "ops/put", cd, config);
    expect(await c.headBlob(dst.host, "ops/put", ld)).toMatchObject({ digest: ld, size: layer.length });
    expect(await c.getBlob(dst.host, "ops/put", ld, layer.length)).toEqual(layer);
    expect(await c.getBlob(dst.host, "ops/put", `sha256:${"1".repeat(64)}`)).toBeUndefined();
    const manifest = enc(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: cd, size: config.length },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: ld, size: layer.length }],
      }, null, 3),
    );
    const digest = await c.putManifest(dst.host, "ops/put", "t1", manifest, "application/vnd.oci.image.manifest.v1+json");
    expect(digest).toBe(await digestOf(manifest));
    expect((await readManifest(dst, "ops/put", "t1"))?.bytes).toEqual(manifest);
  });

  test("bytes that do not match their digest are never sent", async () => {
    const bytes = enc("honest bytes");
    const wrong = await digestOf(enc("other bytes"));
    await expect(c.uploadBlob(dst.host, "ops/refuse", wrong, bytes)).rejects.toThrow(/not pushed/);
    await expect(c.putManifest(dst.host, "ops/refuse", wrong, bytes, "application/vnd.oci.image.manifest.v1+json")).rejects.toThrow(/not pushed/);
    expect(await blobExists(dst, "ops/refuse", wrong)).toBe(false);
  });

  test("cross-repository mount: 201 when the source repository has it, else the 202 session takes the bytes", async () => {
    const img = await pushImage(src, "ops/mount-from", { tag: "v1" });
    const blob = img.blobs?.[0] ?? (await configDigest(img.bytes));
    expect(await c.mountBlob(src.host, "ops/mount-to", blob, "ops/mount-from")).toBe("mounted");
    expect(await blobExists(src, "ops/mount-to", blob)).toBe(true);
    const fresh = enc(`never pushed before ${Math.random()}`);
    const freshDigest = await digestOf(fresh);
    expect(await c.mountBlob(src.host, "ops/mount-to", freshDigest, "ops/mount-from", async () => fresh)).toBe("uploaded");
    expect(await blobExists(src, "ops/mount-to", freshDigest)).toBe(true);
  });

  test("tags/list; an unknown repository is undefined", async () => {
    const img = await pushImage(src, "ops/taglist", { tag: "a" });
    await pushImage(src, "ops/taglist", { tag: "b" });
    await pushSignature(src, "ops/taglist", img.digest);
    const list = await c.listTags(src.host, "ops/taglist");
    expect(list?.tags.sort()).toEqual(["a", "b", sigTag(img.digest)].sort());
    expect(list?.complete).toBe(true);
    expect(list?.digests).toBeUndefined();
    expect(await c.listTags(src.host, "ops/no-such-repo")).toBeUndefined();
  });

  test("referrers: distribution 2.8 has no API, so the fallback tag is read", async () => {
    const img = await pushImage(src, "ops/ref", { tag: "v1" });
    expect(await c.referrers(src.host, "ops/ref", img.digest)).toEqual({ referrers: [], via: "tag" });
    const artifact = await pushImage(src, "ops/ref");
    const index = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.bytes.length, artifactType: "application/x.test", annotations: { a: "b" } }],
    };
    await pushManifestBytes(src, "ops/ref", `sha256-${img.digest.slice(7)}`, "application/vnd.oci.image.index.v1+json", enc(JSON.stringify(index)));
    const got = await c.referrers(src.host, "ops/ref", img.digest);
    expect(got.via).toBe("tag");
    expect(got.referrers).toEqual([{ mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.bytes.length, artifactType: "application/x.test", annotations: { a: "b" } }]);
    expect((await c.referrers(src.host, "ops/ref", img.digest, "application/x.other")).referrers).toEqual([]);
  });

  test("copy of a signature to another host: same digest, same bytes, blobs there", async () => {
    const img = await pushImage(src, "team/app", { tag: "v1" });
    const sig = await pushSignature(src, "team/app", img.digest, { signatures: 2 });
    const tag = sigTag(img.digest);
    const out = await c.copy({ host: src.host, repository: "team/app" }, { host: dst.host, repository: "mirror/team/app" }, tag, sig.digest);
    expect(out.digest).toBe(sig.digest);
    expect(out.blobsCopied).toBe(3);
    const there = await readManifest(dst, "mirror/team/app", tag);
    expect(there?.digest).toBe(sig.digest);
    expect(there?.bytes).toEqual(sig.bytes);
    for (const b of sig.blobs ?? []) expect(await blobExists(dst, "mirror/team/app", b)).toBe(true);
    // Again: the target has every blob, so only HEADs and the manifest PUT.
    const again = await c.copy({ host: src.host, repository: "team/app" }, { host: dst.host, repository: "mirror/team/app" }, tag, sig.digest);
    expect(again.blobsCopied).toBe(0);
  });

  test("copy of an index: children first, by digest, then the index under its tag", async () => {
    const children = [await pushImage(src, "team/multi"), await pushImage(src, "team/multi")];
    const index = await pushIndex(src, "team/multi", children, { tag: "v2" });
    const out = await c.copy({ host: src.host, repository: "team/multi" }, { host: dst.host, repository: "mirror/multi" }, "v2", index.digest);
    expect(out.digest).toBe(index.digest);
    for (const child of children) expect((await readManifest(dst, "mirror/multi", child.digest))?.bytes).toEqual(child.bytes);
    expect((await readManifest(dst, "mirror/multi", "v2"))?.digest).toBe(index.digest);
  });

  test("copy within one host mounts the blobs", async () => {
    const img = await pushImage(src, "team/same", { tag: "v1" });
    const sig = await pushSignature(src, "team/same", img.digest);
    await src.clearLog();
    const out = await c.copy({ host: src.host, repository: "team/same" }, { host: src.host, repository: "team/same-mirror" }, sigTag(img.digest), sig.digest);
    expect(out.digest).toBe(sig.digest);
    const log = await src.accessLog();
    expect(log.filter((e) => e.method === "POST" && e.path.includes("mount=")).length).toBe(2);
    expect(log.filter((e) => e.method === "PUT" && e.path.includes("/blobs/")).length).toBe(0);
    expect((await readManifest(src, "team/same-mirror", sigTag(img.digest)))?.digest).toBe(sig.digest);
  });

  test("a copy's request count is what the registries and the token server saw", async () => {
    const img = await pushImage(src, "team/count", { tag: "v1" });
    const sig = await pushSignature(src, "team/count", img.digest);
    const fresh = client({ credentials: credentialsFor([src, dst]), caFiles: new Map([src, dst].filter((r) => r.caFile).map((r) => [r.host, r.caFile ?? ""])) });
    await Promise.all([src.clearLog(), dst.clearLog()]);
    src.tokenServer?.clearRequests();
    dst.tokenServer?.clearRequests();
    const out = await fresh.copy({ host: src.host, repository: "team/count" }, { host: dst.host, repository: "mirror/count" }, sigTag(img.digest), sig.digest);
    const seen = (await src.accessLog()).length + (await dst.accessLog()).length;
    const tokens = (src.tokenServer?.requests().length ?? 0) + (dst.tokenServer === src.tokenServer ? 0 : (dst.tokenServer?.requests().length ?? 0));
    expect(out.requests).toBe(seen + tokens);
    const toTarget = (await dst.accessLog()).length;
    for (const e of [...(await src.accessLog()), ...(await dst.accessLog())]) expect(e.userAgent).toBe("sigmirror/test");
    console.log(`copy of one .sig, ${flavour}, cold client: ${out.requests} requests (${toTarget} to the target registry, ${tokens} token requests)`);
    expect(toTarget).toBeLessThanOrEqual(11);
  });
});

async function configDigest(manifest: Uint8Array): Promise<string> {
  const parsed = JSON.parse(new TextDecoder().decode(manifest)) as { config: { digest: string } };
  return parsed.config.digest;
}

describe("errors", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "htpasswd" });
  });
  afterAll(async () => {
    closeClients();
    await reg?.stop();
  });

  test("without credentials: one line naming host, method, repository, status and OCI code", async () => {
    const c = client();
    const err = await c.headManifest(reg.host, "x/y", "v1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    const e = err as RegistryError;
    expect(e.kind).toBe("auth");
    expect(e.status).toBe(401);
    expect(e.message).toBe(`${reg.host}: HEAD x/y:v1: 401 unauthorized`);
    const put: unknown = await c.putManifest(reg.host, "x/y", "v1", enc("{}"), "application/vnd.oci.image.manifest.v1+json").catch((x: unknown) => x);
    expect(put).toBeInstanceOf(RegistryError);
    expect((put as RegistryError).message).toMatch(new RegExp(`^${reg.host.replace(/\./g, "\\.")}: PUT x/y:v1: 401 UNAUTHORIZED: authentication required`));
  });

  test("TLS: an untrusted certificate fails at once naming --registry-ca; https://HOST in --insecure-registry skips the check", async () => {
    const tls = await startRegistry({ tls: true });
    const dir = mkdtempSync(join(tmpdir(), "sigmirror-otherca-"));
    try {
      const other = await createTestCA(dir);
      const wrongCa = client({ caFiles: new Map([[tls.host, other.caFile]]) });
      const err: unknown = await wrongCa.ping(tls.host).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryError);
      expect((err as RegistryError).kind).toBe("network");
      expect((err as RegistryError).message).toMatch(new RegExp(`^${tls.host.replace(/\./g, "\\.")}: GET: TLS: .*--registry-ca HOST=FILE`));
      expect(wrongCa.stats()[0]?.requests).toBe(1);
      await client({ insecure: new Set([`https://${tls.host}`]) }).ping(tls.host);
      // A loopback host without --registry-ca is spoken to in plain HTTP: the TLS server refuses it.
      await expect(client().ping(tls.host)).rejects.toThrow(RegistryError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await tls.stop();
    }
  });
});
