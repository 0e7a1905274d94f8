import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { sigmirror } from "../../test/lib/cli.ts";

const fixtures = "test/fixtures/manifests";
const good = ["--thin-manifest-dir", `${fixtures}/thin-good`, "--manifest", `${fixtures}/plain/manifest.yaml`];
const noStack = /\bat .*:\d+:\d+/;

describe("sigmirror plan", () => {
  test("text summary by default, exit 0, nothing on stderr for clean manifests", async () => {
    const r = await sigmirror(["plan", ...good, "--primary", "r1.example"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^projects +4$/m);
    expect(r.out).toMatch(/^groups +7$/m);
    expect(r.out).toMatch(/^without primary +3 \(primary: r1\.example\)$/m);
  });

  test("--output json: the counts", async () => {
    const r = await sigmirror(["plan", ...good, "--primary", "r1.example", "--output", "json"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(json).toMatchObject({ groups: 7, edges: 13, mirror_pairs: 6, without_primary: 3, hosts: 5, warnings: 0 });
    expect(Object.keys(json["per_host"] as object)).toEqual(["legacy.example", "r1.example", "r2.example:5000", "r3.example", "r4.example"]);
  });

  test("--output jsonl: one line per group", async () => {
    const r = await sigmirror(["plan", ...good, "--output=jsonl"]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines).toHaveLength(7);
    expect(JSON.parse(lines[3] ?? "")).toMatchObject({ repository: "prod/images/app", hosts: ["r1.example", "r2.example:5000", "r3.example", "r4.example"] });
  });

  test("a bad --output is exit 2 naming the flag", async () => {
    const r = await sigmirror(["plan", ...good, "--output", "yaml"]);
    expect(r.code).toBe(2);
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    expect(r.err).toContain('--output: expected text, json or jsonl (got "yaml")');
    expect(r.out).toBe("");
  });

  test("no manifest flags is exit 2", async () => {
    const r = await sigmirror(["plan"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--thin-manifest-dir DIR or --manifest FILE");
  });

  test("a --primary no manifest names is exit 2 (it would leave every group without primary)", async () => {
    const r = await sigmirror(["plan", ...good, "--primary", "r9.example"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--primary: expected a destination host of the manifests (got "r9.example")');
    const bad = await sigmirror(["plan", ...good, "--primary", "https://r1.example"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--primary: expected a host[:port]");
  });

  test("warnings: one line each on stderr, the plan goes on, exit 0", async () => {
    const r = await sigmirror(["plan", "--thin-manifest-dir", `${fixtures}/thin-warnings`, "--output", "json"]);
    expect(r.code).toBe(0);
    const lines = r.err.trimEnd().split("\n");
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line).toMatch(/^sigmirror: test\/fixtures\/manifests\/thin-warnings\/\S+\.yaml:\d+: (registries|images)\[\d+\]\.(name|dmap)( "[^"]+")?: .+/);
    expect((JSON.parse(r.out) as { warnings: number }).warnings).toBe(7);
  });

  test("--strict: the same lines are fatal, exit 2, no plan printed", async () => {
    const r = await sigmirror(["plan", "--strict", "--thin-manifest-dir", `${fixtures}/thin-warnings`]);
    expect(r.code).toBe(2);
    expect(r.err.trimEnd().split("\n")).toHaveLength(7);
    expect(r.out).toBe("");
  });

  test("fatal errors: every bad file one line, exit 2, no stack, nothing on stdout", async () => {
    const files = readdirSync(join(fixtures, "bad")).sort();
    const dirs = readdirSync(join(fixtures, "bad-thin")).sort();
    const args = [
      ...files.flatMap((f) => ["--manifest", `${fixtures}/bad/${f}`]),
      ...dirs.flatMap((d) => ["--thin-manifest-dir", `${fixtures}/bad-thin/${d}`]),
      // A good tree beside the bad ones changes nothing.
      ...good,
    ];
    const r = await sigmirror(["plan", ...args]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).not.toMatch(noStack);
    const lines = r.err.trimEnd().split("\n");
    expect(lines).toHaveLength(files.length + dirs.length);
    for (const line of lines) expect(line).toMatch(/^sigmirror: test\/fixtures\/manifests\/bad(-thin)?\/[^:]+(:\d+)?: .+/);
    for (const f of files) expect(lines.filter((l) => l.startsWith(`sigmirror: ${fixtures}/bad/${f}`))).toHaveLength(1);
    for (const d of dirs) expect(lines.filter((l) => l.startsWith(`sigmirror: ${fixtures}/bad-thin/${d}/`) || l.startsWith(`sigmirror: ${fixtures}/bad-thin/${d}:`))).toHaveLength(1);
  });

  test("the demo manifests of `make demo` plan cleanly", async () => {
    const r = await sigmirror(["plan", "--thin-manifest-dir", "examples/demo-manifests", "--primary", "127.0.0.11:5001", "--output", "json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ projects: 2, groups: 7, hosts: 4, without_primary: 2, warnings: 0 });
  });

  test("--help stays light: lists the manifest flags", async () => {
    const r = await sigmirror(["plan", "--help"]);
    expect(r.code).toBe(0);
    for (const flag of ["--thin-manifest-dir DIR", "--manifest FILE", "--strict", "--primary HOST", "--output FORMAT"]) expect(r.out).toContain(flag);
  });
});
