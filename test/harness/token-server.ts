// Our own token server (distribution's "token" auth) on a loopback address, plain HTTP.
// Tokens are RS256 JWTs whose header kid is the libtrust key ID of the signing key, which is what
// distribution 2.8 looks up in its rootcertbundle.
//
// Grants: a request with valid Basic credentials gets every requested action among
// pull/push/delete (and "*") on the requested repositories (narrowed by `grant` when given);
// wrong credentials get 401; a request without credentials gets a token with no access at all
// (unless anonymousPull: then pull only), so the registry answers 401 insufficient_scope.
import { createHash, createPublicKey, generateKeyPair, randomUUID, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onProcessExit } from "./cleanup.ts";
import { allocateLoopback, hostOf } from "./net.ts";
import { runTool } from "./tool.ts";

export interface User {
  readonly username: string;
  readonly password: string;
}

export interface TokenRequest {
  readonly scope: string[];
  readonly user?: string;
  readonly service: string | undefined;
  /** HTTP status the token server answered (200 or 401). */
  readonly status: number;
  readonly time: number;
}

export interface AccessClaim {
  readonly type: string;
  readonly name: string;
  readonly actions: string[];
}

export interface TokenServerOptions {
  readonly users?: readonly User[];
  /** expires_in and the token's exp - iat, in seconds (default 300). */
  readonly expiresIn?: number;
  readonly service?: string;
  readonly issuer?: string;
  /** Give anonymous requests pull (instead of nothing). */
  readonly anonymousPull?: boolean;
  /** Narrows what a user gets: return the actions to grant (a subset of `requested`). */
  readonly grant?: (user: string | undefined, claim: AccessClaim) => string[];
}

export interface TokenServer {
  readonly url: string;
  /** The realm to configure and to fetch tokens from: `${url}/token`. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM certificate of the signing key: the registry's auth.token.rootcertbundle. */
  readonly certFile: string;
  /** libtrust key ID of the signing key (the JWT header kid). */
  readonly kid: string;
  readonly expiresIn: number;
  /** Every token request so far, in arrival order. */
  requests(): TokenRequest[];
  clearRequests(): void;
  /** Mints a token directly (no HTTP request recorded), e.g. an expired one with expiresIn < 0. */
  mint(sub: string | undefined, access: AccessClaim[], options?: { expiresIn?: number }): string;
  stop(): Promise<void>;
}

const grantable = new Set(["pull", "push", "delete", "*"]);

function base64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString("base64url");
}

/** libtrust KeyID: base32(sha256(SPKI DER)[:30]) without padding, in ':'-joined groups of 4. */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  const digest = createHash("sha256").update(der).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out.match(/.{1,4}/g)?.join(":") ?? out;
}

/** Parses "repository:name:pull,push" (name may itself hold ':' only for non-repository types). */
export function parseScope(scope: string): AccessClaim | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(",").filter((a) => a !== ""),
  };
}

function basicUser(header: string | null, users: readonly User[]): { ok: boolean; user?: string } {
  if (header === null) return { ok: true };
  const m = /^Basic\s+(\S+)$/i.exec(header);
  if (!m?.[1]) return { ok: false };
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { ok: false };
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const found = users.find((u) => u.username === username && u.password === password);
  return found ? { ok: true, user: username } : { ok: false };
}

function rsaKey(): Promise<KeyObject> {
  return new Promise((resolve, reject) =>
    generateKeyPair("rsa", { modulusLength: 2048 }, (err, _publicKey, privateKey) => (err ? reject(err) : resolve(privateKey))),
  );
}

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-token-"));
  const removeDirAtExit = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const keyFile = join(dir, "token.key");
    const certFile = join(dir, "token.pem");
    // node's key generation runs off the event loop and is faster than openssl's; openssl only wraps
    // the public key in the self-signed certificate the registry wants as rootcertbundle.
    const privateKey = await rsaKey();
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await runTool([
      "openssl", "req", "-x509", "-new", "-key", keyFile, "-out", certFile, "-days", "2",
      "-subj", "/CN=sigmirror test token signer",
    ]);
    const kid = libtrustKeyId(createPublicKey(privateKey));
    const users = options.users ?? [];
    const service = options.service ?? "sigmirror-test-registry";
    const issuer = options.issuer ?? "sigmirror-test-token-server";
    const expiresIn = options.expiresIn ?? 300;
    const log: TokenRequest[] = [];

    const mint = (sub: string | undefined, access: AccessClaim[], o: { expiresIn?: number } = {}): string => {
      const now = Math.floor(Date.now() / 1000);
      const life = o.expiresIn ?? expiresIn;
      const header = { typ: "JWT", alg: "RS256", kid };
      const claims = {
        iss: issuer,
        sub: sub ?? "",
        aud: service,
        exp: now + life,
        nbf: now - 1,
        iat: now,
        jti: randomUUID(),
        access,
      };
      const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
      return `${signingInput}.${base64url(sign("sha256", Buffer.from(signingInput), privateKey))}`;
    };

    const decide = (user: string | undefined, requested: AccessClaim): AccessClaim | undefined => {
      let actions = requested.actions.filter((a) =>
        user !== undefined ? grantable.has(a) : options.anonymousPull === true && a === "pull",
      );
      if (options.grant) {
        const allowed = new Set(options.grant(user, requested));
        actions = actions.filter((a) => allowed.has(a));
      }
      return actions.length > 0 ? { ...requested, actions } : undefined;
    };

    const addr = await allocateLoopback();
    const server = Bun.serve({
      hostname: addr.ip,
      port: addr.port,
      fetch(req: Request): Response {
        const url = new URL(req.url);
        if (url.pathname !== "/token") return new Response("not found\n", { status: 404 });
        const scope = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter((s) => s !== "");
        const who = basicUser(req.headers.get("authorization"), users);
        const record = (status: number): void => {
          log.push({ scope, ...(who.user !== undefined ? { user: who.user } : {}), service: url.searchParams.get("service") ?? undefined, status, time: Date.now() });
        };
        if (!who.ok) {
          record(401);
          return Response.json(
            { errors: [{ code: "UNAUTHORIZED", message: "invalid credentials" }] },
            { status: 401, headers: { "WWW-Authenticate": `Basic realm="${issuer}"` } },
          );
        }
        const access: AccessClaim[] = [];
        for (const s of scope) {
          const claim = parseScope(s);
          const granted = claim ? decide(who.user, claim) : undefined;
          if (granted) access.push(granted);
        }
        const token = mint(who.user, access);
        record(200);
        return Response.json({ token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() });
      },
    });
    const url = `http://${hostOf(addr)}`;
    let stopped = false;
    return {
      url,
      realm: `${url}/token`,
      service,
      issuer,
      certFile,
      kid,
      expiresIn,
      requests: () => log.map((r) => ({ ...r, scope: [...r.scope] })),
      clearRequests: () => void log.splice(0),
      mint,
      async stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        await server.stop(true);
        rmSync(dir, { recursive: true, force: true });
        removeDirAtExit();
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    removeDirAtExit();
    throw err;
  }
}
