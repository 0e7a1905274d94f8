import { expect, test } from "bun:test";
import { createPublicKey, verify } from "node:crypto";
import { importSigningKey, pkcs8Der, signJwt } from "./jwt.ts";
import { rsaPair } from "./test-support.ts";

const pair = rsaPair();
const other = rsaPair();

function decode(part: string): unknown {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

function verifies(jwt: string, publicPem: string): boolean {
  const [h, c, s] = jwt.split(".");
  return verify("RSA-SHA256", Buffer.from(`${h}.${c}`), createPublicKey(publicPem), Buffer.from(s ?? "", "base64url"));
}

test("RS256 JWT verifies with the public key and carries the claims", async () => {
  const claims = { iss: "sa@p.iam.gserviceaccount.com", scope: "s", aud: "https://t/token", iat: 1000, exp: 4600 };
  const jwt = await signJwt(await importSigningKey(pair.privatePem), claims, "kid-1");
  const [h, c] = jwt.split(".");
  expect(jwt).not.toMatch(/[=+/]/);
  expect(decode(h ?? "")).toEqual({ alg: "RS256", typ: "JWT", kid: "kid-1" });
  expect(decode(c ?? "")).toEqual(claims);
  expect(verifies(jwt, pair.publicPem)).toBe(true);
  expect(verifies(jwt, other.publicPem)).toBe(false);
});

test("no kid when the key has no private_key_id", async () => {
  const jwt = await signJwt(await importSigningKey(pair.privatePem), { iss: "a", scope: "b", aud: "c", iat: 1, exp: 2 }, undefined);
  expect(decode(jwt.split(".")[0] ?? "")).toEqual({ alg: "RS256", typ: "JWT" });
});

test("pkcs8Der takes the PEM body only", () => {
  expect(pkcs8Der(`junk\n${pair.privatePem}\ntrailer`).length).toBeGreaterThan(1000);
  expect(() => pkcs8Der("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----")).toThrow();
});
