import { describe, expect, test } from "bun:test";
import type { ParsedSource } from "../manifest/types.ts";
import { planGroups } from "./plan.ts";
import { planSummary, renderJson, renderJsonl, renderText } from "./render.ts";

const d = (n: number) => `sha256:${String(n).repeat(64)}`;
const src: ParsedSource = {
  kind: "plain",
  project: "m.yaml",
  manifestFile: "m.yaml",
  imagesFile: "m.yaml",
  src: "s.example/x",
  destinations: [
    { name: "p.example/prod", host: "p.example", path: "prod" },
    { name: "m.example:5000/prod", host: "m.example:5000", path: "prod" },
    { name: "old.example/legacy", host: "old.example", path: "legacy" },
  ],
  images: [{ name: "app", digests: new Map([[d(2), ["v2"]], [d(1), ["v1", "latest"]]]) }],
};
const plan = planGroups([src], ["p.example"]);

describe("plan output", () => {
  test("json: integer counts and a per-host breakdown", () => {
    const json = JSON.parse(renderJson(plan)) as Record<string, unknown>;
    expect(json).toMatchObject({ groups: 4, edges: 6, mirror_pairs: 2, without_primary: 2, hosts: 3, warnings: 0, projects: 1 });
    for (const key of ["groups", "edges", "mirror_pairs", "without_primary", "hosts", "warnings"]) expect(Number.isInteger(json[key])).toBe(true);
    expect(json["per_host"]).toEqual({
      "m.example:5000": { groups: 2, primary: 0, mirror: 2, without_primary: 0 },
      "old.example": { groups: 2, primary: 0, mirror: 0, without_primary: 2 },
      "p.example": { groups: 2, primary: 2, mirror: 0, without_primary: 0 },
    });
    expect(planSummary(plan)["without_primary_by_hosts"]).toEqual([{ hosts: ["old.example"], groups: 2 }]);
  });

  test("jsonl: one line per group in plan order, chunked", () => {
    const chunks = [...renderJsonl(plan, 3)];
    expect(chunks).toHaveLength(2);
    const lines = chunks.join("").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => `${l["repository"]}@${String(l["digest"]).slice(7, 8)}`)).toEqual(["legacy/app@1", "legacy/app@2", "prod/app@1", "prod/app@2"]);
    expect(lines[2]).toEqual({
      repository: "prod/app",
      image: "app",
      digest: d(1),
      tags: ["latest", "v1"],
      hosts: ["m.example:5000", "p.example"],
      primary: "p.example",
      mirrors: ["m.example:5000"],
    });
    expect(lines[0]?.["primary"]).toBeNull();
  });

  test("text: the summary names every count and each host", () => {
    const text = renderText(plan);
    for (const row of [/^groups +4$/m, /^edges +6 /m, /^mirror pairs +2 /m, /^without primary +2 \(primary: p\.example\)$/m, /^hosts +3$/m]) {
      expect(text).toMatch(row);
    }
    expect(text).toMatch(/^p\.example +2 +2 +0 +0$/m);
    expect(text).toMatch(/^ +2 {2}old\.example$/m);
  });
});
