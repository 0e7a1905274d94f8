import { describe, expect, test } from "bun:test";
import { parseChallenge } from "./challenge.ts";

describe("parseChallenge", () => {
  test("distribution's bearer challenge", () => {
    expect(
      parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:samalba/my-app:pull,push"'),
    ).toEqual({ scheme: "bearer", realm: "https://auth.example/token", service: "registry.example", scopes: ["repository:samalba/my-app:pull,push"] });
  });
  test("insufficient_scope, several scopes, odd spacing and escapes", () => {
    const c = parseChallenge('bearer  realm="http://127.0.0.1:1/t" , error="insufficient_scope", scope="repository:a:pull repository:b:pull,push", service="s\\"x"');
    expect(c).toEqual({ scheme: "bearer", realm: "http://127.0.0.1:1/t", service: 's"x', scopes: ["repository:a:pull", "repository:b:pull,push"], error: "insufficient_scope" });
  });
  test("basic, and bearer preferred when both are offered", () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: "basic", realm: "Registry Realm" });
    expect(parseChallenge("Basic")).toEqual({ scheme: "basic" });
    expect(parseChallenge('Basic realm="r", Bearer realm="https://a/t",service="s"')?.scheme).toBe("bearer");
  });
  test("nothing usable", () => {
    expect(parseChallenge(null)).toBeUndefined();
    expect(parseChallenge("")).toBeUndefined();
    expect(parseChallenge('Negotiate abc, Bearer service="no realm"')).toBeUndefined();
  });
});
