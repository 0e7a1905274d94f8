import { describe, expect, test } from "bun:test";
import { holdsEveryLayer, indexChildren, manifestLayers } from "./oci.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const sig = (...layers: string[]) => enc({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", layers: layers.map((digest) => ({ digest })) });

describe("oci bodies", () => {
  test("index children in order, de-duplicated; none for an image", () => {
    const idx = enc({ mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ digest: "sha256:b" }, { digest: "sha256:a" }, { digest: "sha256:b" }] });
    expect(indexChildren("application/vnd.oci.image.index.v1+json", idx)).toEqual(["sha256:b", "sha256:a"]);
    expect(indexChildren("application/vnd.oci.image.manifest.v1+json", sig("sha256:x"))).toEqual([]);
    expect(indexChildren("x", new TextEncoder().encode("{not json"))).toEqual([]);
  });

  test("re-signing appends: the new manifest holds every old layer, not the other way", () => {
    const old = sig("sha256:1");
    const resigned = sig("sha256:1", "sha256:2");
    expect(holdsEveryLayer(resigned, old)).toBe(true);
    expect(holdsEveryLayer(old, resigned)).toBe(false);
    expect(holdsEveryLayer(sig("sha256:3"), old)).toBe(false);
    expect(manifestLayers(enc({ manifests: [] }))).toBeUndefined();
    expect(holdsEveryLayer(enc({ manifests: [] }), old)).toBe(false);
  });
});
