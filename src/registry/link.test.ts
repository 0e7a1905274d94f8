import { expect, test } from "bun:test";
import { nextLink } from "./link.ts";

const base = new URL("https://r.example/v2/a/tags/list?n=2");
test("next link: relative or absolute, among others, or none", () => {
  expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', base)?.href).toBe("https://r.example/v2/a/tags/list?n=2&last=b");
  expect(nextLink('<https://other/x?last=c>; rel=next', base)?.href).toBe("https://other/x?last=c");
  expect(nextLink('</p1>; rel="prev", </p3>; rel="next"', base)?.pathname).toBe("/p3");
  expect(nextLink('</p1>; rel="prev"', base)).toBeUndefined();
  expect(nextLink(null, base)).toBeUndefined();
});
