import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  blobExists, deleteManifest, listTags, mediaTypes, pushAttestation, pushImage, pushIndex, pushSignature,
  readManifest, sigTag, signatureAnnotation, type Pushed,
} from "./images.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDockerConfig } from "./docker-config.ts";
import { startRegistry, stopAllRegistries, type AuthFlavour, type TestRegistry } from "./registry.ts";
import { runTool } from "./tool.ts";

afterAll(stopAllRegistries);

function sha(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

interface Manifest {
  mediaType: string;
  config: { digest: string; mediaType: string };
  layers: { mediaType: string; digest: string; annotations?: Record<string, string> }[];
  manifests?: { digest: string; mediaType: string; size: number }[];
}

function parse(p: { bytes: Uint8Array }): Manifest {
  return JSON.parse(new TextDecoder().decode(p.bytes)) as Manifest;
}

async function blobText(reg: TestRegistry, repo: string, digest: string): Promise<string> {
  const res = await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`);
  expect(res.status).toBe(200);
  return res.text();
}

test("sigTag", () => {
  const d = `sha256:${"ab".repeat(32)}`;
  expect(sigTag(d)).toBe(`sha256-${"ab".repeat(32)}.sig`);
  expect(sigTag(d, "att")).toBe(`sha256-${"ab".repeat(32)}.att`);
  expect(sigTag(d)).toHaveLength(75);
  expect(() => sigTag("latest")).toThrow();
});

describe("push helpers on an anonymous registry", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg.stop());

  test("pushImage: the digest is sha256 of the bytes, and the registry serves those bytes", async () => {
    const img = await pushImage(reg, "lib/app", { tag: "v1" });
    expect(img.digest).toBe(sha(img.bytes));
    expect(img.mediaType).toBe(mediaTypes.ociManifest);
    const m = parse(img);
    expect(img.blobs).toEqual([m.config.digest, ...m.layers.map((l) => l.digest)]);
    expect(img.blobs).toHaveLength(2);
    for (const b of img.blobs) expect(await blobExists(reg, "lib/app", b)).toBe(true);
    const byTag = await readManifest(reg, "lib/app", "v1");
    expect(byTag?.digest).toBe(img.digest);
    expect(byTag?.mediaType).toBe(mediaTypes.ociManifest);
    expect(Buffer.from(byTag?.bytes ?? new Uint8Array()).equals(Buffer.from(img.bytes))).toBe(true);
  });

  test("pushImage: same seed => same digest, distinct seeds => distinct digests; docker media types", async () => {
    const a = await pushImage(reg, "lib/seeded", { seed: "one" });
    const b = await pushImage(reg, "lib/seeded", { seed: "one" });
    const c = await pushImage(reg, "lib/seeded", { seed: "two" });
    const d = await pushImage(reg, "lib/seeded", { seed: "one", mediaType: "docker" });
    expect(a.digest).toBe(b.digest);
    expect(c.digest).not.toBe(a.digest);
    expect(d.mediaType).toBe(mediaTypes.dockerManifest);
    expect(parse(d).config.mediaType).toBe(mediaTypes.dockerConfig);
    expect((await readManifest(reg, "lib/seeded", d.digest))?.mediaType).toBe(mediaTypes.dockerManifest);
    expect(await listTags(reg, "lib/seeded")).toEqual([]); // no tag given: pushed by digest only
  });

  test("pushIndex: an OCI index over its children", async () => {
    const kids = [await pushImage(reg, "lib/multi"), await pushImage(reg, "lib/multi", { mediaType: "docker" })];
    const idx = await pushIndex(reg, "lib/multi", kids, { tag: "latest" });
    expect(idx.digest).toBe(sha(idx.bytes));
    expect(idx.mediaType).toBe(mediaTypes.ociIndex);
    expect(parse(idx).manifests?.map((m) => [m.digest, m.mediaType, m.size])).toEqual(
      kids.map((k) => [k.digest, k.mediaType, k.bytes.length]),
    );
    expect((await readManifest(reg, "lib/multi", "latest"))?.digest).toBe(idx.digest);
  });

  test("pushSignature: cosign-shaped .sig; re-signing with keepExisting appends a layer", async () => {
    const img = await pushImage(reg, "lib/signed");
    const first = await pushSignature(reg, "lib/signed", img.digest, { signatures: 2 });
    expect(first.tag).toBe(sigTag(img.digest));
    expect(first.digest).toBe(sha(first.bytes));
    const m1 = parse(first);
    expect(m1.mediaType).toBe(mediaTypes.ociManifest);
    expect(m1.config.mediaType).toBe(mediaTypes.ociConfig);
    expect(m1.layers).toHaveLength(2);
    for (const l of m1.layers) {
      expect(l.mediaType).toBe(mediaTypes.simpleSigning);
      expect(l.annotations?.[signatureAnnotation]).toMatch(/^[A-Za-z0-9+/]+=*$/);
      const payload = JSON.parse(await blobText(reg, "lib/signed", l.digest)) as { critical: { image: { "docker-manifest-digest": string } } };
      expect(payload.critical.image["docker-manifest-digest"]).toBe(img.digest);
    }
    const second = await pushSignature(reg, "lib/signed", img.digest, { keepExisting: true });
    expect(second.digest).not.toBe(first.digest);
    const m2 = parse(second);
    expect(m2.layers).toHaveLength(3);
    expect(m2.layers.slice(0, 2)).toEqual(m1.layers);
    expect((await readManifest(reg, "lib/signed", sigTag(img.digest)))?.digest).toBe(second.digest);
    const replaced = await pushSignature(reg, "lib/signed", img.digest);
    expect(parse(replaced).layers).toHaveLength(1);
  });

  test("pushAttestation: .att with DSSE layers naming the subject", async () => {
    const img = await pushImage(reg, "lib/attested");
    const att = await pushAttestation(reg, "lib/attested", img.digest);
    expect(att.tag).toBe(sigTag(img.digest, "att"));
    const layer = parse(att).layers[0];
    expect(layer?.mediaType).toBe(mediaTypes.dsse);
    const env = JSON.parse(await blobText(reg, "lib/attested", layer?.digest ?? "")) as { payload: string };
    const statement = JSON.parse(Buffer.from(env.payload, "base64").toString()) as { subject: { digest: { sha256: string } }[] };
    expect(`sha256:${statement.subject[0]?.digest.sha256}`).toBe(img.digest);
  });

  test("readManifest of a missing ref is undefined; deleteManifest removes the manifest and its tags", async () => {
    expect(await readManifest(reg, "lib/none", "latest")).toBeUndefined();
    const img = await pushImage(reg, "lib/deleted", { tag: "v1" });
    await deleteManifest(reg, "lib/deleted", img.digest);
    expect(await readManifest(reg, "lib/deleted", img.digest)).toBeUndefined();
    expect(await readManifest(reg, "lib/deleted", "v1")).toBeUndefined();
    await expect(deleteManifest(reg, "lib/deleted", img.digest)).rejects.toThrow(/404/);
  });
});

describe("push helpers authenticate in every flavour", () => {
  const flavours: [AuthFlavour, boolean][] = [["htpasswd", false], ["token", false], ["token", true]];
  for (const [auth, tls] of flavours) {
    test(`${auth}${tls ? " + TLS" : ""}: image, index, signature, read, delete`, async () => {
      await using reg = await startRegistry({ auth, tls });
      const img = await pushImage(reg, "team/app", { tag: "v1" });
      const idx: Pushed = await pushIndex(reg, "team/app", [img]);
      const sig = await pushSignature(reg, "team/app", idx.digest);
      const resigned = await pushSignature(reg, "team/app", idx.digest, { keepExisting: true });
      expect(parse(resigned).layers).toHaveLength(2);
      expect((await readManifest(reg, "team/app", sigTag(idx.digest)))?.digest).toBe(resigned.digest);
      expect(sig.digest).not.toBe(resigned.digest);
      await deleteManifest(reg, "team/app", resigned.digest);
      expect(await listTags(reg, "team/app")).toEqual(["v1"]);
      const counts = await reg.requestCounts();
      expect(counts["PUT"]).toBeGreaterThan(0);
      expect(Object.keys(counts).sort()).toEqual(["DELETE", "GET", "POST", "PUT"]);
      // without credentials the same registry refuses
      const anon = await fetch(`${reg.url}/v2/team/app/tags/list`, reg.caPem ? { tls: { ca: reg.caPem } } : {});
      expect(anon.status).toBe(401);
    });
  }
});

test("skopeo (an independent client) reads and copies what the helpers push, with writeDockerConfig credentials", async () => {
  await using src = await startRegistry({ auth: "htpasswd", tls: true });
  await using dst = await startRegistry({ auth: "token" });
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-skopeo-"));
  try {
    const authfile = writeDockerConfig(dir, [src, dst]);
    const kids = [await pushImage(src, "lib/app"), await pushImage(src, "lib/app", { mediaType: "docker" })];
    const idx = await pushIndex(src, "lib/app", kids, { tag: "v1" });
    const sig = await pushSignature(src, "lib/app", idx.digest, { signatures: 2 });
    const raw = await runTool(["skopeo", "inspect", "--raw", "--authfile", authfile, "--tls-verify=false", `docker://${src.host}/lib/app:v1`]);
    expect(raw).toBe(new TextDecoder().decode(idx.bytes));
    for (const ref of ["v1", sigTag(idx.digest)]) {
      await runTool([
        "skopeo", "copy", "--all", "--preserve-digests", "--authfile", authfile,
        "--src-tls-verify=false", "--dest-tls-verify=false",
        `docker://${src.host}/lib/app:${ref}`, `docker://${dst.host}/mirror/app:${ref}`,
      ]);
    }
    expect((await readManifest(dst, "mirror/app", "v1"))?.digest).toBe(idx.digest);
    expect((await readManifest(dst, "mirror/app", sigTag(idx.digest)))?.digest).toBe(sig.digest);
    for (const k of kids) expect((await readManifest(dst, "mirror/app", k.digest))?.digest).toBe(k.digest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
