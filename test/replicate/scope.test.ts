// --only-host / --only-repository / --only-digest scope what is asked of the registries (access
// logs); a scoped run never prunes the ledger, a full one does. Then `ledger stats` and
// `ledger explain` on the result.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { sigTag, type TestRegistry } from "../harness/index.ts";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, writeThinManifests, type Scenario, type ScenarioImage } from "../lib/scenario.ts";
import { falseClaims, ledgerClaims, replicationGaps, signedSubjects, tagDigest } from "./lib.ts";

/** Paths each registry was asked for since the last clear. */
async function pathsBy(regs: readonly TestRegistry[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const r of regs) out.set(r.host, (await r.accessLog()).map((e) => e.path));
  return out;
}

function image(s: Scenario, name: string): ScenarioImage {
  const img = s.images.find((i) => i.name === name);
  if (img === undefined) throw new Error(`scenario has no ${name}`);
  return img;
}

describe("scoped runs, pruning, ledger stats and explain", () => {
  let s: Scenario;
  let all: TestRegistry[];
  let m0: TestRegistry;
  let m1: TestRegistry;
  beforeAll(async () => {
    s = await startScenario({ mirrors: 2, signed: 3, unsigned: 1, indexes: 1 });
    all = [s.primary, ...s.mirrors];
    const [a, b] = s.mirrors;
    if (a === undefined || b === undefined) throw new Error("scenario: 2 mirrors");
    m0 = a;
    m1 = b;
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  test("--only-digest: only that image's repository and tags are asked, on every host", async () => {
    const img = image(s, "signed-1");
    await s.clearLogs();
    const r = await sigmirror(s.args("replicate", "--only-digest", img.image.digest));
    expect(r.code).toBe(0);
    expect(r.err).toContain("replicate: 1 groups");
    for (const paths of (await pathsBy(all)).values()) {
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.filter((p) => !p.startsWith(`/v2/${img.repository}/`))).toEqual([]);
      // Tags asked for are this digest's signature only (blobs and uploads aside), and on the
      // primary its referrers fallback tag (distribution has no referrers API).
      const tags = paths.filter((p) => p.includes("/manifests/sha256-")).map((p) => p.split("/manifests/")[1]);
      const fallback = img.image.digest.replace(":", "-");
      expect(new Set(tags.filter((t) => t !== fallback))).toEqual(new Set([sigTag(img.image.digest)]));
    }
    expect(ledgerClaims(s.ledger).map((c) => `${c.mirror} ${c.repository}`).sort()).toEqual(
      [`${m0.host} ${img.repository}`, `${m1.host} ${img.repository}`].sort(),
    );
  });

  test("--only-repository PREFIX: only repositories under it", async () => {
    const img = image(s, "multiarch-0");
    await s.clearLogs();
    const r = await sigmirror(s.args("replicate", "--only-repository", "prod/multi"));
    expect(r.code).toBe(0);
    for (const paths of (await pathsBy(all)).values()) {
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.filter((p) => !p.startsWith(`/v2/${img.repository}/`))).toEqual([]);
    }
    // The index and its 2 children, on 2 mirrors; and the earlier run's pairs are still there.
    expect(ledgerClaims(s.ledger)).toHaveLength(2 + 3 * 2);
  });

  test("--only-host: the other mirror is sent nothing, the primary is read", async () => {
    await s.clearLogs();
    const r = await sigmirror(s.args("replicate", "--only-host", m0.host));
    expect(r.code).toBe(0);
    const counts = await s.requests();
    expect(counts[m1.host]).toBe(0);
    expect(counts[m0.host]).toBeGreaterThan(0);
    expect(counts[s.primary.host]).toBeGreaterThan(0);
    expect(await replicationGaps(s, [m0])).toEqual([]);
    const claims = ledgerClaims(s.ledger);
    expect(claims.filter((c) => c.mirror === m0.host)).toHaveLength(6);
    expect(claims.filter((c) => c.mirror === m1.host)).toHaveLength(1 + 3);
  });

  test("an unknown --only-host or a bad --only-digest is exit 2, nothing sent", async () => {
    await s.clearLogs();
    const host = await sigmirror(s.args("replicate", "--only-host", "127.0.0.1:1"));
    expect(host.code).toBe(2);
    expect(host.err).toContain("--only-host");
    const digest = await sigmirror(s.args("replicate", "--only-digest", "sha256:abc"));
    expect(digest.code).toBe(2);
    expect(digest.err).toContain("--only-digest");
    expect(Object.values(await s.requests())).toEqual([0, 0, 0]);
  });

  test("a full run completes; a scoped run over fewer manifests prunes nothing, the full one does", async () => {
    expect((await sigmirror(s.args("replicate"))).code).toBe(0);
    expect(await replicationGaps(s, s.mirrors)).toEqual([]);
    const full = ledgerClaims(s.ledger);
    expect(full).toHaveLength(signedSubjects(s.images).length * s.mirrors.length);

    // signed-2 leaves the manifests.
    const fewer = join(s.dir, "manifests-fewer");
    writeThinManifests(
      fewer,
      all.map((r) => r.host),
      s.images.filter((i) => i.name !== "signed-2").map((i) => ({ name: i.name, digest: i.image.digest, tag: "v1" })),
    );
    const args = (...extra: string[]) => ["replicate", "--thin-manifest-dir", fewer, "--primary", s.primary.host, "--ledger", s.ledger, ...extra];
    for (const scope of [["--only-repository", "prod/signed-0"], ["--only-host", m0.host], ["--only-digest", image(s, "signed-1").image.digest]]) {
      expect((await sigmirror(args("--reverify-after", "0s", ...scope))).code).toBe(0);
      expect(ledgerClaims(s.ledger)).toEqual(full);
    }
    expect((await sigmirror(args())).code).toBe(0);
    const pruned = ledgerClaims(s.ledger);
    expect(pruned.filter((c) => c.repository === "prod/signed-2")).toEqual([]);
    expect(pruned).toHaveLength(full.length - 2);

    // Back to the full manifests for what follows.
    expect((await sigmirror(s.args("replicate"))).code).toBe(0);
    expect(ledgerClaims(s.ledger)).toHaveLength(full.length);
    expect(await falseClaims(s.ledger, s.mirrors)).toEqual([]);
  });

  test("ledger stats counts subjects by state and pairs per host", async () => {
    const json = await sigmirror(["ledger", "stats", "--ledger", s.ledger, "--output", "json"]);
    expect(json.code).toBe(0);
    const st = JSON.parse(json.out) as {
      subjects: { signed: number; unsigned: number; missing: number };
      pairs: number;
      pairsDueNow: number;
      hosts: { host: string; pairs: number; dueNow: number }[];
      lastRun?: { verb: string };
    };
    expect(st.subjects).toEqual({ signed: 6, unsigned: 1, missing: 0 });
    expect(st.pairs).toBe(12);
    expect(st.pairsDueNow).toBe(0);
    expect(st.hosts).toEqual([m0.host, m1.host].sort().map((host) => ({ host, pairs: 6, dueNow: 0 })));
    expect(st.lastRun?.verb).toBe("replicate");
    const text = await sigmirror(["ledger", "stats", "--ledger", s.ledger]);
    expect(text.code).toBe(0);
    expect(text.out).toContain("subjects: 6 signed, 1 unsigned, 0 not on the primary");
    expect(text.out).toContain("pairs: 12 verified, 0 due now");
    for (const m of s.mirrors) expect(text.out).toContain(`  ${m.host}: 6 pairs, 0 due now`);
  });

  test("ledger explain REPOSITORY@DIGEST names each host's tag and digest; an index lists its children", async () => {
    const img = image(s, "signed-0");
    const tag = sigTag(img.image.digest);
    const sig = await tagDigest(s.primary, img.repository, tag);
    const r = await sigmirror(["ledger", "explain", `${img.repository}@${img.image.digest}`, "--ledger", s.ledger]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${img.repository}@${img.image.digest} (primary ${s.primary.host}): signed`);
    for (const [host, role] of [[s.primary.host, "primary"], [m0.host, "mirror"], [m1.host, "mirror"]] as const) {
      expect(r.out).toContain(`  ${host} (${role}) ${tag} ${sig}: verified `);
    }

    const idx = image(s, "multiarch-0");
    const ri = await sigmirror(["ledger", "explain", `${idx.repository}@${idx.image.digest}`, "--ledger", s.ledger]);
    expect(ri.code).toBe(0);
    expect(ri.out).toContain(`index of 2: ${idx.children.map((c) => c.digest).join(", ")}`);

    const unsigned = image(s, "unsigned-0");
    const ru = await sigmirror(["ledger", "explain", `${unsigned.repository}@${unsigned.image.digest}`, "--ledger", s.ledger]);
    expect(ru.code).toBe(0);
    expect(ru.out).toContain(": unsigned");
    expect(ru.out).not.toContain("(mirror)");

    const absent = await sigmirror(["ledger", "explain", `prod/nothing@sha256:${"0".repeat(64)}`, "--ledger", s.ledger]);
    expect(absent.code).toBe(0);
    expect(absent.out).toContain("not in the ledger");
  });

  test("ledger explain with a bad or missing argument is exit 2, one line", async () => {
    for (const bad of [["explain", "prod/signed-0"], ["explain", "prod/x@sha256:abc"], ["explain"], ["explain", "a@b", "extra"], ["frobnicate"]]) {
      const r = await sigmirror(["ledger", ...bad, "--ledger", s.ledger]);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).toStartWith("sigmirror: ledger");
    }
  });
});
