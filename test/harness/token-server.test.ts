import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { $ } from "bun";
import { libtrustKeyId, parseScope, startTokenServer, type TokenServer } from "./token-server.ts";

interface Jwt {
  header: { alg: string; typ: string; kid: string };
  claims: { iss: string; sub: string; aud: string; exp: number; nbf: number; iat: number; jti: string; access: { type: string; name: string; actions: string[] }[] };
  signingInput: string;
  signature: Buffer;
}

function decode(token: string): Jwt {
  const [h, c, s] = token.split(".");
  const json = (part: string | undefined): unknown => JSON.parse(Buffer.from(part ?? "", "base64url").toString());
  return { header: json(h) as Jwt["header"], claims: json(c) as Jwt["claims"], signingInput: `${h}.${c}`, signature: Buffer.from(s ?? "", "base64url") };
}

const alice = { username: "alice", password: "pw-a" };
const basicAlice = { Authorization: `Basic ${Buffer.from("alice:pw-a").toString("base64")}` };

async function fetchToken(ts: TokenServer, scopes: string[], headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(ts.realm);
  url.searchParams.set("service", ts.service);
  for (const s of scopes) url.searchParams.append("scope", s);
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test("parseScope", () => {
  expect(parseScope("repository:a/b:pull,push")).toEqual({ type: "repository", name: "a/b", actions: ["pull", "push"] });
  expect(parseScope("registry:catalog:*")).toEqual({ type: "registry", name: "catalog", actions: ["*"] });
  expect(parseScope("nonsense")).toBeUndefined();
});

describe("token server", () => {
  let ts: TokenServer;
  beforeAll(async () => {
    ts = await startTokenServer({ users: [alice], expiresIn: 120 });
  });
  afterAll(() => ts.stop());

  test("kid is the libtrust key ID of the certificate's key (checked with openssl + base32)", async () => {
    const raw = (await $`openssl x509 -in ${ts.certFile} -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | head -c 30 | base32 -w0`.text()).trim();
    const expected = raw.replace(/=+$/, "").match(/.{4}/g)?.join(":");
    expect(ts.kid).toBe(expected ?? "");
    expect(ts.kid).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    expect(libtrustKeyId(createPublicKey(readFileSync(ts.certFile)))).toBe(ts.kid);
  });

  test("a valid user gets an RS256 JWT with the requested pull/push, signed by the certificate's key", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { status, body } = await fetchToken(ts, ["repository:a/b:pull,push", "repository:c:pull,frobnicate"], basicAlice);
    expect(status).toBe(200);
    expect(body["expires_in"]).toBe(120);
    expect(body["access_token"]).toBe(body["token"]);
    const jwt = decode(String(body["token"]));
    expect(jwt.header).toEqual({ typ: "JWT", alg: "RS256", kid: ts.kid });
    expect(jwt.claims.iss).toBe(ts.issuer);
    expect(jwt.claims.aud).toBe(ts.service);
    expect(jwt.claims.sub).toBe("alice");
    expect(jwt.claims.exp - jwt.claims.iat).toBe(120);
    expect(jwt.claims.iat).toBeGreaterThanOrEqual(before);
    expect(jwt.claims.nbf).toBeLessThanOrEqual(jwt.claims.iat);
    expect(jwt.claims.jti.length).toBeGreaterThan(0);
    expect(jwt.claims.access).toEqual([
      { type: "repository", name: "a/b", actions: ["pull", "push"] },
      { type: "repository", name: "c", actions: ["pull"] },
    ]);
    const pub = createPublicKey(readFileSync(ts.certFile));
    expect(verify("sha256", Buffer.from(jwt.signingInput), pub, jwt.signature)).toBe(true);
    expect(verify("sha256", Buffer.from(jwt.signingInput + "x"), pub, jwt.signature)).toBe(false);
  });

  test("anonymous gets a token with no access; wrong password gets 401; requests are recorded", async () => {
    ts.clearRequests();
    const anon = await fetchToken(ts, ["repository:a:pull"]);
    expect(anon.status).toBe(200);
    expect(decode(String(anon.body["token"])).claims.access).toEqual([]);
    const wrong = await fetchToken(ts, ["repository:a:pull"], { Authorization: `Basic ${Buffer.from("alice:nope").toString("base64")}` });
    expect(wrong.status).toBe(401);
    expect(ts.requests().map((r) => ({ scope: r.scope, user: r.user, status: r.status }))).toEqual([
      { scope: ["repository:a:pull"], user: undefined, status: 200 },
      { scope: ["repository:a:pull"], user: undefined, status: 401 },
    ]);
  });
});

test("anonymousPull and grant narrow what is given", async () => {
  const ts = await startTokenServer({
    users: [alice],
    anonymousPull: true,
    grant: (_user, claim) => (claim.name.startsWith("ro/") ? ["pull"] : claim.actions),
  });
  try {
    const anon = await fetchToken(ts, ["repository:a:pull,push"]);
    expect(decode(String(anon.body["token"])).claims.access).toEqual([{ type: "repository", name: "a", actions: ["pull"] }]);
    const ro = await fetchToken(ts, ["repository:ro/x:pull,push"], basicAlice);
    expect(decode(String(ro.body["token"])).claims.access).toEqual([{ type: "repository", name: "ro/x", actions: ["pull"] }]);
  } finally {
    await ts.stop();
  }
  await ts.stop(); // idempotent
  expect(await fetch(ts.realm).then(() => "answered", () => "refused")).toBe("refused");
});
