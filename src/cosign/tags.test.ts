import { describe, expect, test } from "bun:test";
import { FAMILIES } from "../ledger/ledger.ts";
import { familyTag, SUFFIXES } from "./tags.ts";

describe("cosign's tag convention", () => {
  test.each([
    ["sig", `sha256-${"ab".repeat(32)}.sig`],
    ["att", `sha256-${"ab".repeat(32)}.att`],
    ["sbom", `sha256-${"ab".repeat(32)}.sbom`],
  ])("%s -> sha256-<hex>.%s", (suffix, tag) => {
    expect(familyTag(`sha256:${"ab".repeat(32)}`, suffix)).toBe(tag);
  });

  test("every suffix is a family the ledger can store", () => {
    expect([...SUFFIXES].every((s) => (FAMILIES as readonly string[]).includes(s))).toBe(true);
  });
});
