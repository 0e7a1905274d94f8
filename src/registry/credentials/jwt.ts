// The RS256 JWT of Google's JWT-bearer grant (RFC 7523), signed with WebCrypto.

export const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";
export const jwtLifetimeSeconds = 3600;

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

function jsonPart(value: unknown): string {
  return base64url(new TextEncoder().encode(JSON.stringify(value)));
}

/** The DER bytes of a `-----BEGIN PRIVATE KEY-----` PEM. */
export function pkcs8Der(pem: string): Uint8Array {
  const m = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(pem);
  if (!m) throw new Error("not a PKCS#8 PEM");
  return new Uint8Array(Buffer.from((m[1] ?? "").replace(/\s+/g, ""), "base64"));
}

export interface AssertionClaims {
  readonly iss: string;
  readonly scope: string;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
}

export async function importSigningKey(pem: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", pkcs8Der(pem), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
}

/** header.claims.signature, RS256. */
export async function signJwt(key: CryptoKey, claims: AssertionClaims, kid: string | undefined): Promise<string> {
  const header = kid === undefined ? { alg: "RS256", typ: "JWT" } : { alg: "RS256", typ: "JWT", kid };
  const signingInput = `${jsonPart(header)}.${jsonPart(claims)}`;
  const sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(signingInput));
  return `${signingInput}.${base64url(new Uint8Array(sig))}`;
}
