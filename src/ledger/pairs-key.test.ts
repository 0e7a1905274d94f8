import { test } from "node:test";
import assert from "node:assert/strict";
import { expectedPairsKey, listKey, pairsKey } from "./pairs-key.ts";

test("a set's key ignores order, and differs for another set", () => {
  const a = pairsKey([["m1:5000", "sig"], ["m2:5000", "sig"]]);
  assert.equal(a, pairsKey([["m2:5000", "sig"], ["m1:5000", "sig"]]));
  assert.equal(a, expectedPairsKey(["m2:5000", "m1:5000"], ["sig"]));
  assert.notEqual(a, pairsKey([["m1:5000", "sig"]]));
  assert.notEqual(a, pairsKey([["m1:5000", "sig"], ["m2:5000", "att"]]));
  assert.notEqual(a, expectedPairsKey(["m1:5000", "m2:5000", "m3:5000"], ["sig"]));
  assert.equal(pairsKey([]), 0);
  assert.ok(Number.isSafeInteger(a) && a > 0);
});

test("list keys tell lists apart, and the split between them", () => {
  const k = listKey(["a:1", "b:2"], ["sig"]);
  assert.equal(k, listKey(["a:1", "b:2"], ["sig"]));
  assert.notEqual(k, listKey(["a:1"], ["b:2", "sig"]));
  assert.notEqual(k, listKey(["a:1", "b:2"], ["att"]));
  assert.notEqual(k, listKey(["a:1b:2"], ["sig"]));
});
