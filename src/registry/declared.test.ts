import { expect, test } from "bun:test";
import { DeclaredRepositories } from "./declared.ts";

test("a declared repository's token is asked for its whole batch", () => {
  const d = new DeclaredRepositories(2);
  d.declare("h", ["a", "b", "c"], "push");
  d.declare("h", ["x"], "pull");
  expect(d.expand("h", ["repository:b:push"])).toEqual(["repository:a:pull", "repository:a:push", "repository:b:pull", "repository:b:push"]);
  expect(d.expand("h", ["repository:c:pull"])).toEqual(["repository:c:pull", "repository:c:push", "repository:x:pull"]);
});

test("undeclared, under-declared, cross-batch and other hosts stay exact", () => {
  const d = new DeclaredRepositories(2);
  d.declare("h", ["a", "b", "c"], "pull");
  expect(d.expand("h", ["repository:a:push"])).toEqual(["repository:a:push"]);
  expect(d.expand("h", ["repository:zzz:pull"])).toEqual(["repository:zzz:pull"]);
  expect(d.expand("h", ["repository:a:pull", "repository:c:pull"])).toEqual(["repository:a:pull", "repository:c:pull"]);
  expect(d.expand("other", ["repository:a:pull"])).toEqual(["repository:a:pull"]);
});
