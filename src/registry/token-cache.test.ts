import { expect, test } from "bun:test";
import { refreshMarginMs, TokenCache } from "./token-cache.ts";

test("a token serves any subset of its scopes until shortly before it expires", () => {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  cache.put("h", ["repository:a:pull", "repository:b:pull", "repository:b:push"], "T1", 300_000, now);
  expect(cache.find("h", ["repository:b:push"])?.token).toBe("T1");
  expect(cache.find("h", ["repository:a:pull", "repository:b:pull"])?.token).toBe("T1");
  expect(cache.find("h", ["repository:a:push"])).toBeUndefined();
  expect(cache.find("other", ["repository:a:pull"])).toBeUndefined();
  now += 300_000 - refreshMarginMs(300_000) - 1;
  expect(cache.find("h", ["repository:a:pull"])?.token).toBe("T1");
  now += 2;
  expect(cache.find("h", ["repository:a:pull"])).toBeUndefined();
});

test("expires_in below the spec's 60 s counts as 60 s; a dropped token is gone", () => {
  const now = 0;
  const cache = new TokenCache(() => now);
  const t = cache.put("h", ["x"], "T", 5_000, now);
  expect(t.useUntil).toBe(60_000 - 6_000);
  cache.drop("h", "T");
  expect(cache.find("h", ["x"])).toBeUndefined();
});
