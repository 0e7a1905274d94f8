import { expect, test } from "bun:test";
import { itemsOfScopeStrings, pull, push, scopeItems, scopeParams } from "./scopes.ts";

test("scopes split into items and group back into request parameters", () => {
  const items = scopeItems([push("b/c"), pull("a"), pull("b/c")]);
  expect(items).toEqual(["repository:a:pull", "repository:b/c:pull", "repository:b/c:push"]);
  expect(scopeParams(items)).toEqual(["repository:a:pull", "repository:b/c:pull,push"]);
  expect(itemsOfScopeStrings(["repository:x:pull,push", "registry:catalog:*"])).toEqual([
    "registry:catalog:*",
    "repository:x:pull",
    "repository:x:push",
  ]);
});
