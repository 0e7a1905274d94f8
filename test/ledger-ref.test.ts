// --ledger-ref: the ledger outlives ephemeral pods, stored as an OCI artifact on a real registry.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compressLedger } from "../src/ledger-store/store.ts";
import { ledgerArtifactType, ledgerLayerType } from "../src/ledger-store/artifact.ts";
import { Ledger } from "../src/ledger/ledger.ts";
import { openDatabase } from "../src/ledger/sqlite.ts";
import { pushBlob, pushManifestBytes, readManifest } from "./harness/index.ts";
import { sigmirror } from "./lib/cli.ts";
import { LEDGER_REPO, useLedgerStore } from "./lib/ledger-store.ts";

describe("--ledger-ref", () => {
  const L = useLedgerStore({ mirrors: 2, signed: 3, unsigned: 1, indexes: 0 });

  /** Stores `gz` under the ref's tag as a ledger artifact, as another sigmirror would have. */
  const storeLayer = async (gz: Uint8Array): Promise<{ layer: string; pushed: string }> => {
    const layer = await pushBlob(L.store, LEDGER_REPO, gz);
    const config = await pushBlob(L.store, LEDGER_REPO, new TextEncoder().encode("{}"));
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: ledgerArtifactType,
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: config, size: 2 },
      layers: [{ mediaType: ledgerLayerType, digest: layer, size: gz.length }],
    };
    const pushed = await pushManifestBytes(L.store, LEDGER_REPO, "latest", manifest.mediaType, new TextEncoder().encode(JSON.stringify(manifest)));
    return { layer, pushed };
  };

  test("first pod: nothing stored, a cold start, the ledger pushed as our artifact", async () => {
    const r = await sigmirror(L.args(), { cwd: L.pod() });
    expect(r.code).toBe(0);
    expect(r.err).toContain("nothing stored at");
    expect(r.err).toContain("copied 6,");
    const m = await readManifest(L.store, LEDGER_REPO, "latest");
    if (m === undefined) throw new Error("nothing pushed");
    const body = JSON.parse(new TextDecoder().decode(m.bytes)) as { artifactType: string; layers: { mediaType: string }[] };
    expect(body.artifactType).toBe(ledgerArtifactType);
    expect(body.layers.map((l) => l.mediaType)).toEqual([ledgerLayerType]);
  });

  test("a fresh pod pulls it: 0 requests to the mirrors; the previous artifact is deleted", async () => {
    const before = await readManifest(L.store, LEDGER_REPO, "latest");
    await L.s.clearLogs();
    const r = await sigmirror(L.args(), { cwd: L.pod() });
    expect(r.code).toBe(0);
    expect(r.err).toContain("pulled");
    const counts = await L.s.requests();
    for (const m of L.s.mirrors) expect(counts[m.host]).toBe(0);
    const after = await readManifest(L.store, LEDGER_REPO, "latest");
    expect(after?.digest).not.toBe(before?.digest);
    if (before === undefined) throw new Error("no earlier push");
    expect(await readManifest(L.store, LEDGER_REPO, before.digest)).toBeUndefined();
  });

  test("a damaged stored ledger is reported and ignored: a cold start, then replaced", async () => {
    const { layer } = await storeLayer(compressLedger(Buffer.from("not sqlite at all")));
    await L.s.clearLogs();
    const r = await sigmirror(L.args(), { cwd: L.pod() });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: ledger: the stored .* is damaged and ignored/);
    // Cold: the mirrors were asked again (nothing copied: it is all there).
    const counts = await L.s.requests();
    for (const m of L.s.mirrors) expect(counts[m.host]).toBeGreaterThan(0);
    expect(r.err).toContain("copied 0,");
    const m = await readManifest(L.store, LEDGER_REPO, "latest");
    expect(new TextDecoder().decode(m?.bytes)).not.toContain(layer);
  });

  test("a stored ledger of a newer schema is never overwritten", async () => {
    const dir = L.pod();
    const path = join(dir, "newer.db");
    Ledger.openForRun(path).close();
    const db = openDatabase(path);
    db.exec("PRAGMA user_version = 99");
    db.close();
    const { pushed } = await storeLayer(compressLedger(readFileSync(path)));
    const r = await sigmirror(L.args(), { cwd: L.pod() });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/written by a newer sigmirror .* will not overwrite it/);
    expect((await readManifest(L.store, LEDGER_REPO, "latest"))?.digest).toBe(pushed);
  });

  test("a bad --ledger-ref is exit 2 naming the flag", async () => {
    const r = await sigmirror(["replicate", "--thin-manifest-dir", L.s.thinDir, "--primary", L.s.primary.host, "--ledger-ref", "no-tag-here"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--ledger-ref: expected REGISTRY/REPOSITORY:TAG");
  });
});
