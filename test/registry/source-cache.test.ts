// One signature copied to several mirrors reads the primary once (the primary's quota is the signer's too).
import { afterAll, describe, expect, test } from "bun:test";
import { pushImage, pushSignature, readManifest, sigTag, startRegistry, type TestRegistry } from "../harness/index.ts";
import { client, closeClients } from "./lib.ts";

const started: TestRegistry[] = [];
afterAll(async () => {
  closeClients();
  for (const r of started) await r.stop();
});

describe("copies share the source's verified content", () => {
  test("three targets, one read of the manifest and of each blob on the source", async () => {
    const src = await startRegistry();
    started.push(src);
    const targets: TestRegistry[] = [];
    for (let i = 0; i < 3; i++) targets.push(await startRegistry());
    started.push(...targets);
    const repo = "prod/cached";
    const image = await pushImage(src, repo, { tag: "v1" });
    const sig = await pushSignature(src, repo, image.digest, { signatures: 2 });
    await src.clearLog();
    const c = client();
    const tag = sigTag(image.digest);
    await Promise.all(targets.map((t) => c.copy({ host: src.host, repository: repo }, { host: t.host, repository: repo }, tag, sig.digest)));
    for (const t of targets) expect((await readManifest(t, repo, tag))?.digest).toBe(sig.digest);
    const gets = (await src.accessLog()).filter((e) => e.method === "GET" && e.path !== "/v2/");
    // The manifest, its config and its two layers: once each, not once per target.
    expect(gets.length).toBe(1 + sig.blobs.length);
    expect(sig.blobs.length).toBe(3);
  });
});
