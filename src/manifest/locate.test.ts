import { describe, expect, test } from "bun:test";
import { Locator } from "./locate.ts";

const text = `# a comment
registries:
- name: a.example/x
  src: true
- name: b.example/y
images:
- name: app
  dmap:
    "sha256:aa": ["v1"]
    'sha256:bb':
    - v2
    - v3
    sha256:cc: []
- {name: flow, dmap: {"sha256:dd": [v4]}}
`;

describe("Locator", () => {
  const at = new Locator(text);
  test("sequence items and mapping keys, block and flow, any quoting", () => {
    expect(at.line(["registries"])).toBe(2);
    expect(at.line(["registries", 1])).toBe(5);
    expect(at.line(["registries", 1, "name"])).toBe(5);
    expect(at.line(["registries", 0, "src"])).toBe(4);
    expect(at.line(["images", 0, "dmap", "sha256:aa"])).toBe(9);
    expect(at.line(["images", 0, "dmap", "sha256:bb"])).toBe(10);
    expect(at.line(["images", 0, "dmap", "sha256:bb", 1])).toBe(12);
    expect(at.line(["images", 0, "dmap", "sha256:cc"])).toBe(13);
    expect(at.line(["images", 1, "dmap", "sha256:dd"])).toBe(14);
  });
  test("a path that cannot be followed stops at the deepest node found", () => {
    expect(at.line(["images", 0, "dmap", "sha256:zz"])).toBe(9);
    expect(at.line(["images", 7])).toBe(7);
    expect(at.line(["nope"])).toBe(2);
  });
  test("text that does not parse has no lines", () => {
    expect(new Locator("a: [\n").line(["a"])).toBeUndefined();
  });
});
