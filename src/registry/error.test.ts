import { describe, expect, test } from "bun:test";
import { errorFromResponse, isHostFailure, parseOciError, RegistryError, type RegistryErrorKind } from "./error.ts";
import type { HttpRequest, HttpResponse } from "./types.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const req: HttpRequest = {
  method: "PUT",
  url: new URL("http://reg.example:5000/v2/team/app/manifests/sha256-abc.sig"),
  headers: new Headers({ authorization: "Bearer sekrit-token-value" }),
  subject: { repository: "team/app", reference: "sha256-abc.sig" },
};
const res = (status: number, body: string): HttpResponse => ({ status, headers: new Headers(), body: enc(body), url: req.url });

describe("RegistryError", () => {
  test("is one line: host, method, repo:ref, status, OCI code and message", () => {
    const body = '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid\\nsee docs","detail":{}}]}';
    const e = errorFromResponse(req, res(400, body));
    expect(e.message).toBe("reg.example:5000: PUT team/app:sha256-abc.sig: 400 MANIFEST_INVALID: manifest invalid see docs");
    expect(e.status).toBe(400);
    expect(e.code).toBe("MANIFEST_INVALID");
    expect(e.kind).toBe("http");
  });
  test("digest references are written with @", () => {
    const e = new RegistryError({ host: "h", method: "GET", repository: "r", reference: "sha256:00", kind: "digest", detail: "x" });
    expect(e.message).toBe("h: GET r@sha256:00: x");
  });
  test("a non-OCI body falls back to the status words; HTML is dropped", () => {
    expect(errorFromResponse(req, res(502, "<html><body>bad</body></html>")).message).toMatch(/: 502 bad gateway$/);
    expect(errorFromResponse(req, res(500, "oops")).message).toMatch(/: 500 internal server error: oops$/);
    expect(errorFromResponse(req, res(401, "")).kind).toBe("auth");
    expect(errorFromResponse(req, res(429, "")).kind).toBe("unavailable");
  });
  test("never carries an Authorization value the server echoed", () => {
    const e = errorFromResponse(req, res(401, '{"errors":[{"code":"UNAUTHORIZED","message":"token Bearer sekrit-token-value rejected"}]}'));
    expect(e.message).not.toContain("sekrit");
  });
  test("masks what the log rule masks too: any Authorization scheme, a URL's password", () => {
    const detail = "redirected to https://bob:sekrit-pass@cdn.example/x after Authorization: Token sekrit-token-value";
    const e = new RegistryError({ host: "h", method: "GET", kind: "network", detail });
    expect(e.message).not.toContain("sekrit");
    expect(e.message).toBe("h: GET: redirected to https://bob:***@cdn.example/x after Authorization: ***");
  });
});

describe("isHostFailure", () => {
  const err = (kind: RegistryErrorKind, status?: number) => new RegistryError({ host: "h", method: "GET", kind, status, detail: "x" });
  // The host, not the request, is failing: the CLI counts these against the host.
  const cases: readonly (readonly [name: string, err: unknown, host: boolean])[] = [
    ["network", err("network"), true],
    ["timeout", err("timeout"), true],
    ["unavailable (429/503)", err("unavailable", 429), true],
    ["unavailable without a status", err("unavailable"), true],
    ["500", err("http", 500), true],
    ["502", err("http", 502), true],
    ["404", err("http", 404), false],
    ["400", err("http", 400), false],
    ["auth 401", err("auth", 401), false],
    ["digest mismatch", err("digest"), false],
    ["http without a status", err("http"), false],
    ["a plain Error", new Error("ECONNRESET"), false],
    ["not an error", "network", false],
    ["undefined", undefined, false],
  ];
  test.each(cases)("%s", (_name, e, host) => {
    expect(isHostFailure(e)).toBe(host);
  });
});

describe("parseOciError", () => {
  test("tolerates junk", () => {
    expect(parseOciError(enc("not json"))).toBeUndefined();
    expect(parseOciError(enc('{"errors":[]}'))).toBeUndefined();
    expect(parseOciError(enc('{"errors":[{"message":"m"}]}'))).toEqual({ code: "UNKNOWN", message: "m" });
  });
});
