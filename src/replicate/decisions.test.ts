// The engine's pure decisions, table by table: what is due, what to do with a pair, whether to overwrite.
import { describe, expect, test } from "bun:test";
import { isDue, mirrorsSettled, pairDue, primaryDue, type PrimaryDueInput, type SettledInput } from "./due.ts";
import { overwriteDecision, type OverwriteInput } from "./overwrite.ts";
import { pairAction, type PairAction, type Seen } from "./pair-action.ts";
import { covers, defaultSelection, parseSelection, selectionText, selects } from "./referrer-selection.ts";
import { defaultSchedule, type ScheduleOptions } from "./schedule.ts";

const o = defaultSchedule;
const forced: ScheduleOptions = { ...o, force: true };
const NOW = 10_000;

describe("isDue", () => {
  test.each([
    [NOW + 1, o, false],
    [NOW, o, true],
    [NOW - 1, o, true],
    [NOW + 99_999, forced, true],
  ] as const)("due at %p (force %p) -> %p", (dueAt, s, want) => {
    expect(isDue(dueAt, NOW, s)).toBe(want);
  });
});

describe("primaryDue", () => {
  const known = { dueAt: NOW + 60, families: new Set(["sig"]), referrersLooked: selectionText(defaultSelection), referrersDue: 0 };
  const base: PrimaryDueInput = { verb: "replicate", known, manifestRead: true, families: ["sig"], referrers: defaultSelection };
  const rows: [string, PrimaryDueInput, ScheduleOptions, boolean][] = [
    ["known, read, not due", base, o, false],
    ["forced", base, forced, true],
    ["due time passed", { ...base, known: { ...known, dueAt: NOW } }, o, true],
    ["new to the ledger", { ...base, known: undefined }, o, true],
    ["manifest never read (is it an index?)", { ...base, manifestRead: false }, o, true],
    ["a family no run looked for (--tag-suffixes widened)", { ...base, families: ["sig", "att"] }, o, true],
    ["a narrower family list is not a reason", { ...base, known: { ...known, families: new Set(["sig", "att"]) } }, o, false],
    ["verify always reads", { ...base, verb: "verify" }, o, true],
    ["referrers never looked for, first look spread later", { ...base, known: { ...known, referrersLooked: undefined, referrersDue: NOW + 1 } }, o, false],
    ["referrers never looked for, first look come", { ...base, known: { ...known, referrersLooked: undefined, referrersDue: NOW } }, o, true],
    ["--referrers widened to all", { ...base, referrers: { kind: "all" } }, o, true],
    ["--referrers none: never a reason", { ...base, referrers: { kind: "none" }, known: { ...known, referrersLooked: undefined, referrersDue: 0 } }, o, false],
  ];
  test.each(rows)("%s", (_name, input, s, want) => {
    expect(primaryDue(input, NOW, s)).toBe(want);
  });
});

describe("mirrorsSettled", () => {
  const tags = new Map([["sig", "sha256:a"]]);
  const referrers = [{ digest: "sha256:r1" }, { digest: "sha256:r2" }];
  const known = { tags, settledOn: 7, pairsDue: NOW + 60, referrers };
  const base: SettledInput = { verb: "replicate", known, tags, families: ["sig"], mirrorSet: 7, referrers };
  const rows: [string, SettledInput, ScheduleOptions, boolean][] = [
    ["every pair verified, none due", base, o, true],
    ["forced", base, forced, false],
    ["verify asks every mirror", { ...base, verb: "verify" }, o, false],
    ["new subject", { ...base, known: undefined }, o, false],
    ["a pair due", { ...base, known: { ...known, pairsDue: NOW } }, o, false],
    ["settled on another mirror set (a mirror added)", { ...base, mirrorSet: 8 }, o, false],
    ["not settled (its pairs are rows)", { ...base, known: { ...known, settledOn: 0 }, mirrorSet: 0 }, o, false],
    ["a new referrer on the primary", { ...base, referrers: [...referrers, { digest: "sha256:r3" }] }, o, false],
    ["the primary lists fewer referrers (a narrower selection)", { ...base, referrers: [{ digest: "sha256:r2" }] }, o, true],
    ["the primary's tag moved", { ...base, tags: new Map([["sig", "sha256:b"]]) }, o, false],
    ["a tag outside this run's families moved: not this run's business", { ...base, tags: new Map([...tags, ["att", "sha256:c"]]) }, o, true],
  ];
  test.each(rows)("%s", (_name, input, s, want) => {
    expect(mirrorsSettled(input, NOW, s)).toBe(want);
  });
});

describe("pairDue", () => {
  const rows: [string, Parameters<typeof pairDue>[0], ScheduleOptions, boolean][] = [
    ["never verified", { verb: "replicate", verified: undefined, digest: "sha256:a" }, o, true],
    ["verified, not due", { verb: "replicate", verified: { digest: "sha256:a", dueAt: NOW + 1 }, digest: "sha256:a" }, o, false],
    ["verified at another digest", { verb: "replicate", verified: { digest: "sha256:b", dueAt: NOW + 1 }, digest: "sha256:a" }, o, true],
    ["due", { verb: "replicate", verified: { digest: "sha256:a", dueAt: NOW }, digest: "sha256:a" }, o, true],
    ["forced", { verb: "replicate", verified: { digest: "sha256:a", dueAt: NOW + 1 }, digest: "sha256:a" }, forced, true],
    ["verify checks every pair", { verb: "verify", verified: { digest: "sha256:a", dueAt: NOW + 1 }, digest: "sha256:a" }, o, true],
  ];
  test.each(rows)("%s", (_name, input, s, want) => {
    expect(pairDue(input, NOW, s)).toBe(want);
  });
});

describe("pairAction", () => {
  const absentListed: Seen = { present: false, via: "listing" };
  const absentRead: Seen = { present: false, via: "read" };
  const at = (digest: string, via: "listing" | "read" = "read"): Seen => ({ present: true, digest, via });
  const rows: [string, "replicate" | "verify", string | undefined, Seen, PairAction][] = [
    ["there already", "replicate", "sha256:a", at("sha256:a"), { kind: "verified" }],
    ["there already (listing with digests)", "replicate", "sha256:a", at("sha256:a", "listing"), { kind: "verified" }],
    ["absent, read just now: copy", "replicate", "sha256:a", absentRead, { kind: "copy" }],
    ["absent in a listing only: read before writing", "replicate", "sha256:a", absentListed, { kind: "read-first" }],
    ["another digest: the overwrite rule decides", "replicate", "sha256:a", at("sha256:b"), { kind: "replace-or-conflict", theirs: "sha256:b" }],
    ["another digest, seen in a listing: the overwrite rule reads live", "replicate", "sha256:a", at("sha256:b", "listing"), { kind: "replace-or-conflict", theirs: "sha256:b" }],
    ["verify: missing", "verify", "sha256:a", absentListed, { kind: "missing" }],
    ["verify: missing (read)", "verify", "sha256:a", absentRead, { kind: "missing" }],
    ["verify: another digest is judged like replicate's", "verify", "sha256:a", at("sha256:b"), { kind: "replace-or-conflict", theirs: "sha256:b" }],
    ["--check-unsigned: the mirror has one", "verify", undefined, at("sha256:b"), { kind: "unsigned-but-signed", theirs: "sha256:b" }],
    ["--check-unsigned: neither has one", "verify", undefined, absentListed, { kind: "nothing" }],
  ];
  test.each(rows)("%s", (_name, verb, want, seen, action) => {
    expect(pairAction(verb, want, seen)).toEqual(action);
  });
});

describe("overwriteDecision", () => {
  const manifest = (...layers: string[]) => new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, config: { digest: "sha256:c" }, layers: layers.map((digest) => ({ digest })) }));
  const primary = { digest: "sha256:p", bytes: manifest("sha256:1", "sha256:2") };
  const base: OverwriteInput = { primary, mirror: { digest: "sha256:m", bytes: manifest("sha256:1") }, force: false, overwritesSoFar: 0, maxOverwrites: 10 };
  const rows: [string, OverwriteInput, ReturnType<typeof overwriteDecision>["kind"]][] = [
    ["the primary appended a signature: replace", base, "replace"],
    ["gone meanwhile: a plain copy", { ...base, mirror: undefined }, "absent"],
    ["the mirror holds the primary's now", { ...base, mirror: { digest: "sha256:p", bytes: primary.bytes } }, "same"],
    ["the mirror holds a signature the primary lacks: conflict", { ...base, mirror: { digest: "sha256:m", bytes: manifest("sha256:1", "sha256:9") } }, "conflict"],
    ["--force-overwrite replaces it anyway", { ...base, force: true, mirror: { digest: "sha256:m", bytes: manifest("sha256:9") } }, "replace"],
    ["not a manifest with layers: never replaced", { ...base, mirror: { digest: "sha256:m", bytes: new TextEncoder().encode("{}") } }, "conflict"],
    ["--max-overwrites reached", { ...base, overwritesSoFar: 10 }, "conflict"],
    ["--max-overwrites 0", { ...base, maxOverwrites: 0 }, "conflict"],
  ];
  test.each(rows)("%s", (_name, input, kind) => {
    expect(overwriteDecision(input).kind).toBe(kind);
  });
  test("the conflict says why", () => {
    const d = overwriteDecision({ ...base, overwritesSoFar: 3, maxOverwrites: 3 });
    expect(d).toEqual({ kind: "conflict", reason: "not replaced: --max-overwrites 3 reached" });
  });
});

describe("referrer selection", () => {
  test.each([
    ["default", "types"],
    ["all", "all"],
    ["none", "none"],
    ["application/vnd.in-toto+json", "types"],
    ["application/vnd.dev.sigstore.bundle+json;version=0.3, application/spdx+json", "types"],
    ["", undefined],
    ["not a type", undefined],
    ["application/x,", undefined],
  ] as const)("--referrers %p -> %p", (text, kind) => {
    expect(parseSelection(text)?.kind).toBe(kind);
  });

  test("the default carries bundles, attestations and cosign's OCI 1.1 types, not SBOMs", () => {
    for (const t of ["application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.in-toto+json", "application/vnd.dev.cosign.artifact.sig.v1+json"]) {
      expect(selects(defaultSelection, t)).toBe(true);
    }
    expect(selects(defaultSelection, "application/spdx+json")).toBe(false);
    expect(selects(defaultSelection, "application/vnd.dev.cosign.artifact.sbom.v1+json")).toBe(false);
    expect(selects({ kind: "all" }, "application/spdx+json")).toBe(true);
    expect(selects({ kind: "none" }, "application/vnd.in-toto+json")).toBe(false);
  });

  const spdx = parseSelection("application/spdx+json");
  const both = parseSelection("application/spdx+json,application/vnd.in-toto+json");
  test.each([
    ["all looked, anything wanted", "all", defaultSelection, true],
    ["the same list", selectionText(defaultSelection), defaultSelection, true],
    ["widened to all", selectionText(defaultSelection), { kind: "all" } as const, false],
    ["widened by a type", "application/vnd.in-toto+json", both, false],
    ["narrowed", "application/spdx+json,application/vnd.in-toto+json", spdx, true],
    ["none looked", "none", defaultSelection, false],
    ["none wanted", "none", { kind: "none" } as const, true],
  ] as const)("covers: %s", (_name, looked, wanted, want) => {
    if (wanted === undefined) throw new Error("bad selection");
    expect(covers(looked, wanted)).toBe(want);
  });
});
