import { describe, expect, test } from "bun:test";
import type { ImageEntry, ParsedSource } from "../manifest/types.ts";
import { planGroups } from "./plan.ts";

const d = (n: number) => `sha256:${String(n).repeat(64)}`;

function source(project: string, registries: string[], images: Record<string, Record<string, string[]>>): ParsedSource {
  const entries: ImageEntry[] = Object.entries(images).map(([name, dmap]) => ({ name, digests: new Map(Object.entries(dmap)) }));
  return {
    kind: "thin",
    project,
    manifestFile: `${project}/promoter-manifest.yaml`,
    imagesFile: `${project}/images.yaml`,
    src: `staging.example/${project}`,
    destinations: registries.map((name) => {
      const i = name.indexOf("/");
      return { name, host: name.slice(0, i), path: name.slice(i + 1) };
    }),
    images: entries,
  };
}

describe("planGroups", () => {
  const a = source("a", ["r2.example/prod", "r1.example/prod", "old.example/legacy/a"], {
    app: { [d(1)]: ["v1"], [d(2)]: ["v2"] },
  });
  const b = source("b", ["r3.example:5000/prod", "r1.example/prod"], { app: { [d(1)]: ["v1", "b"] }, tool: { [d(3)]: ["t"] } });

  test("a group is (path after host + /image, digest); one digest in one repository from two manifests is one group", () => {
    const plan = planGroups([a, b], []);
    expect(plan.groups.map((g) => [g.repository, g.digest, g.hosts])).toEqual([
      ["legacy/a/app", d(1), ["old.example"]],
      ["legacy/a/app", d(2), ["old.example"]],
      ["prod/app", d(1), ["r1.example", "r2.example", "r3.example:5000"]],
      ["prod/app", d(2), ["r1.example", "r2.example"]],
      ["prod/tool", d(3), ["r1.example", "r3.example:5000"]],
    ]);
    expect(plan.groups[2]?.tags).toEqual(["b", "v1"]);
    expect(plan.groups[2]?.image).toBe("app");
  });

  test("the primary is the first --primary the group contains; mirrors are the other hosts", () => {
    const plan = planGroups([a, b], ["r3.example:5000", "r1.example"]);
    const byKey = new Map(plan.groups.map((g) => [`${g.repository}@${g.digest}`, g]));
    expect(byKey.get(`prod/app@${d(1)}`)?.primary).toBe("r3.example:5000");
    expect(byKey.get(`prod/app@${d(1)}`)?.mirrors).toEqual(["r1.example", "r2.example"]);
    expect(byKey.get(`prod/app@${d(2)}`)?.primary).toBe("r1.example");
    expect(byKey.get(`prod/app@${d(2)}`)?.mirrors).toEqual(["r2.example"]);
    // Without primary: counted, never copied (no mirrors).
    expect(byKey.get(`legacy/a/app@${d(1)}`)?.primary).toBeUndefined();
    expect(byKey.get(`legacy/a/app@${d(1)}`)?.mirrors).toEqual([]);
    expect(plan.withoutPrimary).toBe(2);
  });

  test("counts: edges, mirror pairs, hosts, per host, without primary by host set", () => {
    const plan = planGroups([a, b], ["r1.example"]);
    expect([plan.groups.length, plan.edges, plan.mirrorPairs, plan.hosts.length]).toEqual([5, 9, 4, 4]);
    expect([plan.projects, plan.images, plan.repositories, plan.digests]).toEqual([2, 3, 3, 3]);
    expect(plan.hosts).toEqual(["old.example", "r1.example", "r2.example", "r3.example:5000"]);
    expect(Object.fromEntries(plan.perHost)).toEqual({
      "old.example": { groups: 2, primary: 0, mirror: 0, withoutPrimary: 2 },
      "r1.example": { groups: 3, primary: 3, mirror: 0, withoutPrimary: 0 },
      "r2.example": { groups: 2, primary: 0, mirror: 2, withoutPrimary: 0 },
      "r3.example:5000": { groups: 2, primary: 0, mirror: 2, withoutPrimary: 0 },
    });
    expect(plan.withoutPrimaryByHosts).toEqual([{ hosts: ["old.example"], groups: 2 }]);
  });

  test("order is repository, then digest, even where one repository is a prefix of another", () => {
    const s = source("s", ["h.example/p"], {
      "a-b": { [d(1)]: ["x"] },
      "a/b": { [d(1)]: ["x"] },
      a: { [d(2)]: ["x"], [d(1)]: ["x"] },
      "a.b": { [d(1)]: ["x"] },
      a0: { [d(1)]: ["x"] },
    });
    expect(planGroups([s], []).groups.map((g) => `${g.repository}@${g.digest.slice(7, 8)}`)).toEqual([
      "p/a@1",
      "p/a@2",
      "p/a-b@1",
      "p/a.b@1",
      "p/a/b@1",
      "p/a0@1",
    ]);
  });

  test("the same destination reached through two registry names is one host", () => {
    const s = source("s", ["h.example/p/x", "h.example/p"], { app: { [d(1)]: ["v"] }, "x/app": { [d(1)]: ["w"] } });
    const plan = planGroups([s], []);
    const merged = plan.groups.find((g) => g.repository === "p/x/app");
    expect(merged?.hosts).toEqual(["h.example"]);
    expect(merged?.tags).toEqual(["v", "w"]);
    expect(plan.groups.map((g) => g.repository)).toEqual(["p/app", "p/x/app", "p/x/x/app"]);
  });

  test("no sources, no groups; the input is not changed", () => {
    expect(planGroups([], ["r1.example"]).groups).toEqual([]);
    const before = JSON.stringify(a.images.map((i) => [...i.digests]));
    planGroups([a, b, a], []);
    expect(JSON.stringify(a.images.map((i) => [...i.digests]))).toBe(before);
  });
});
