// Google access tokens through the provider, against a fake OAuth token endpoint and a fake
// metadata server on loopback (the only fakes issue 4 allows): JWT checked with the public key.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { createPublicKey, verify } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { allocateLoopback, hostOf } from "../../../test/harness/net.ts";
import { CredentialError } from "./error.ts";
import { createCredentialProvider } from "./index.ts";
import { rsaPair, tempDir } from "./test-support.ts";

const dir = tempDir("google");
const pair = rsaPair();
const stranger = rsaPair();
const clientEmail = "mirror@proj.iam.gserviceaccount.com";
const kid = "key-id-123";
const user = { client_id: "cid.apps.googleusercontent.com", client_secret: "user-client-secret-9", refresh_token: "1//user-refresh-token-9" };
const clock = { t: 1_900_000_000_000 };
const now = (): number => clock.t;

interface Seen {
  readonly form: URLSearchParams;
  readonly verdict: string;
}
let seen: Seen[] = [];
let issued = 0;
let expiresIn: unknown = 3600;
let delayMs = 0;
let failWith: { status: number; body: unknown } | undefined;

function claimsProblem(assertion: string, tokenUri: string): string | undefined {
  const [h, c, s] = assertion.split(".");
  if (h === undefined || c === undefined || s === undefined) return "not a JWT";
  if (!verify("RSA-SHA256", Buffer.from(`${h}.${c}`), createPublicKey(pair.publicPem), Buffer.from(s, "base64url"))) return "Invalid JWT Signature.";
  const header = JSON.parse(Buffer.from(h, "base64url").toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(c, "base64url").toString()) as Record<string, unknown>;
  if (header.alg !== "RS256" || header.typ !== "JWT" || header.kid !== kid) return `bad header ${JSON.stringify(header)}`;
  if (claims.iss !== clientEmail) return "bad iss";
  if (claims.scope !== "https://www.googleapis.com/auth/cloud-platform") return "bad scope";
  if (claims.aud !== tokenUri) return "bad aud";
  if (claims.iat !== Math.floor(clock.t / 1000)) return "bad iat";
  if (claims.exp !== Number(claims.iat) + 3600) return "bad exp";
  return undefined;
}

const oauthAddr = await allocateLoopback();
const oauth = Bun.serve({
  hostname: oauthAddr.ip,
  port: 0,
  async fetch(req): Promise<Response> {
    const url = new URL(req.url);
    const form = new URLSearchParams(await req.text());
    if (delayMs > 0) await Bun.sleep(delayMs);
    let verdict: string | undefined;
    if (req.method !== "POST" || url.pathname !== "/token") verdict = "wrong request";
    else if (req.headers.get("content-type") !== "application/x-www-form-urlencoded") verdict = "not a form";
    else if (form.get("grant_type") === "urn:ietf:params:oauth:grant-type:jwt-bearer") verdict = claimsProblem(form.get("assertion") ?? "", tokenUri) ?? "ok-sa";
    else if (form.get("grant_type") === "refresh_token") {
      const ok = form.get("client_id") === user.client_id && form.get("client_secret") === user.client_secret && form.get("refresh_token") === user.refresh_token;
      verdict = ok ? "ok-user" : "bad refresh grant";
    } else verdict = "unsupported grant";
    seen.push({ form, verdict });
    if (failWith) return Response.json(failWith.body, { status: failWith.status });
    if (!verdict.startsWith("ok-")) return Response.json({ error: "invalid_grant", error_description: verdict }, { status: 400 });
    issued++;
    return Response.json({ access_token: `ya29.${verdict.slice(3)}-${issued}`, expires_in: expiresIn, token_type: "Bearer" });
  },
});
const tokenUri: string = `http://${oauthAddr.ip}:${oauth.port}/token`;

let metaSeen: Headers[] = [];
let metaFlavor = true;
let metaStatus = 200;
const metaAddr = await allocateLoopback();
const meta = Bun.serve({
  hostname: metaAddr.ip,
  port: 0,
  fetch(req) {
    const url = new URL(req.url);
    metaSeen.push(req.headers);
    const headers: Record<string, string> = metaFlavor ? { "Metadata-Flavor": "Google" } : {};
    if (url.pathname !== "/computeMetadata/v1/instance/service-accounts/default/token") return new Response("not found", { status: 404, headers });
    if (req.headers.get("metadata-flavor") !== "Google") return new Response("Missing Metadata-Flavor header", { status: 403, headers });
    if (metaStatus !== 200) return Response.json({ error: "no service account" }, { status: metaStatus, headers });
    issued++;
    return Response.json({ access_token: `ya29.meta-${issued}`, expires_in: 1800, token_type: "Bearer" }, { headers });
  },
});
const metaHost = `${metaAddr.ip}:${meta.port}`;

afterAll(() => {
  oauth.stop(true);
  meta.stop(true);
  dir.remove();
});

beforeEach(() => {
  seen = [];
  metaSeen = [];
  issued = 0;
  expiresIn = 3600;
  delayMs = 0;
  failWith = undefined;
  metaFlavor = true;
  metaStatus = 200;
  clock.t = 1_900_000_000_000;
});

const saKey = dir.file(
  "sa.json",
  JSON.stringify({ type: "service_account", project_id: "proj", private_key_id: kid, private_key: pair.privatePem, client_email: clientEmail, token_uri: tokenUri }),
);
const strangerKey = dir.file(
  "stranger.json",
  JSON.stringify({ type: "service_account", private_key_id: kid, private_key: stranger.privatePem, client_email: clientEmail, token_uri: tokenUri }),
);
mkdirSync(join(dir.path, "gcloud"));
const adcFile = dir.file("gcloud/application_default_credentials.json", JSON.stringify({ type: "authorized_user", ...user, token_uri: tokenUri }));
const noHome = join(dir.path, "no-home");
// Nothing listens here: "not on GCE".
const deadMeta = hostOf(await allocateLoopback());

function provider(env: Record<string, string>) {
  const requests: string[] = [];
  const p = createCredentialProvider({ env: { HOME: noHome, GCE_METADATA_HOST: deadMeta, ...env }, now, onTokenRequest: (h) => requests.push(h) });
  return { p, requests };
}

async function failure(p: Promise<unknown>): Promise<CredentialError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CredentialError) return err;
    throw err;
  }
  throw new Error("expected a CredentialError");
}

describe("service account key (JWT-bearer grant)", () => {
  test("the token endpoint verifies the JWT; the token is the password of oauth2accesstoken", async () => {
    const { p, requests } = provider({ GOOGLE_APPLICATION_CREDENTIALS: saKey });
    const cred = await p.forHost("us-docker.pkg.dev");
    expect(seen.map((s) => s.verdict)).toEqual(["ok-sa"]);
    expect(cred).toEqual({ username: "oauth2accesstoken", password: "ya29.sa-1", source: `Google service account ${clientEmail} (${saKey})`, expiresAt: clock.t + 3_600_000 });
    expect(requests).toEqual([`${oauthAddr.ip}:${oauth.port}`]);
  });

  test("a key the endpoint does not know is refused, in one line naming endpoint and file", async () => {
    const { p } = provider({ GOOGLE_APPLICATION_CREDENTIALS: strangerKey });
    const err = await failure(p.forHost("gcr.io"));
    expect(seen.map((s) => s.verdict)).toEqual(["Invalid JWT Signature."]);
    expect(err.message).toBe(`Google token endpoint ${tokenUri} (service account key ${strangerKey}): answered 400: invalid_grant: Invalid JWT Signature.`);
  });

  test("cached across Google hosts; non-Google hosts never ask", async () => {
    const { p, requests } = provider({ GOOGLE_APPLICATION_CREDENTIALS: saKey });
    expect(await p.forHost("registry.k8s.io")).toBeUndefined();
    expect(await p.forHost("127.0.0.1:5000")).toBeUndefined();
    expect(requests).toEqual([]);
    const a = await p.forHost("us-docker.pkg.dev");
    const b = await p.forHost("europe-docker.pkg.dev");
    const c = await p.forHost("gcr.io");
    expect([a?.password, b?.password, c?.password]).toEqual(["ya29.sa-1", "ya29.sa-1", "ya29.sa-1"]);
    expect(seen.length).toBe(1);
    expect(requests.length).toBe(1);
  });

  test("refreshed 5 minutes before expiry, with a fresh JWT", async () => {
    const { p } = provider({ GOOGLE_APPLICATION_CREDENTIALS: saKey });
    const start = clock.t;
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.sa-1");
    clock.t = start + 3_300_000 - 1;
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.sa-1");
    expect(seen.length).toBe(1);
    clock.t = start + 3_300_000;
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.sa-2");
    // The fake checked iat against the moved clock.
    expect(seen.map((s) => s.verdict)).toEqual(["ok-sa", "ok-sa"]);
  });

  test("a short-lived token is refreshed at half its life", async () => {
    expiresIn = 120;
    const { p } = provider({ GOOGLE_APPLICATION_CREDENTIALS: saKey });
    const start = clock.t;
    await p.forHost("gcr.io");
    clock.t = start + 59_999;
    await p.forHost("gcr.io");
    expect(seen.length).toBe(1);
    clock.t = start + 60_000;
    await p.forHost("gcr.io");
    expect(seen.length).toBe(2);
  });

  test("concurrent callers share one token request", async () => {
    delayMs = 50;
    const { p } = provider({ GOOGLE_APPLICATION_CREDENTIALS: saKey });
    const hosts = ["gcr.io", "us-docker.pkg.dev", "asia-docker.pkg.dev", "eu.gcr.io"];
    const creds = await Promise.all(Array.from({ length: 24 }, (_, i) => p.forHost(hosts[i % hosts.length] ?? "gcr.io")));
    expect(new Set(creds.map((c) => c?.password))).toEqual(new Set(["ya29.sa-1"]));
    expect(seen.length).toBe(1);
  });

  test("a failed fetch is not cached: the next call asks again", async () => {
    failWith = { status: 503, body: { error: "backend_error" } };
    const { p } = provider({ GOOGLE_APPLICATION_CREDENTIALS: saKey });
    expect((await failure(p.forHost("gcr.io"))).message).toContain("answered 503: backend_error");
    failWith = undefined;
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.sa-1");
  });

  test("an unreachable token endpoint is one line naming it", async () => {
    const dead = hostOf(await allocateLoopback());
    const key = dir.file("dead.json", JSON.stringify({ type: "service_account", private_key: pair.privatePem, client_email: clientEmail, token_uri: `http://${dead}/token` }));
    const { p } = provider({ GOOGLE_APPLICATION_CREDENTIALS: key });
    const err = await failure(p.forHost("gcr.io"));
    expect(err.message).toStartWith(`Google token endpoint http://${dead}/token (service account key ${key}): request failed (`);
    expect(err.message).not.toContain("\n");
  });

  test("an answer without access_token", async () => {
    failWith = { status: 200, body: { token_type: "Bearer" } };
    const { p } = provider({ GOOGLE_APPLICATION_CREDENTIALS: saKey });
    expect((await failure(p.forHost("gcr.io"))).message).toEndWith("answer has no access_token");
  });
});

describe("authorized_user (gcloud application-default login)", () => {
  test("refresh_token grant with the client id and secret, from CLOUDSDK_CONFIG", async () => {
    const { p } = provider({ CLOUDSDK_CONFIG: join(dir.path, "gcloud") });
    const cred = await p.forHost("us-docker.pkg.dev");
    expect(seen.map((s) => s.verdict)).toEqual(["ok-user"]);
    expect(cred).toMatchObject({ username: "oauth2accesstoken", password: "ya29.user-1", source: `Google authorized_user (${adcFile})` });
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.user-1");
    expect(seen.length).toBe(1);
  });

  test("GOOGLE_APPLICATION_CREDENTIALS wins over gcloud's file", async () => {
    const { p } = provider({ GOOGLE_APPLICATION_CREDENTIALS: saKey, CLOUDSDK_CONFIG: join(dir.path, "gcloud") });
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.sa-1");
  });

  test("a malformed key file is an input error, the same each time, with no request", async () => {
    const bad = dir.file("bad.json", `{"type": "authorized_user", "client_secret": "x"`);
    const { p, requests } = provider({ GOOGLE_APPLICATION_CREDENTIALS: bad });
    const e1 = await failure(p.forHost("gcr.io"));
    const e2 = await failure(p.forHost("us-docker.pkg.dev"));
    expect(e1.message).toBe(`Google credentials ${bad}: not valid JSON`);
    expect(e1.input).toBe(true);
    expect(e2.message).toBe(e1.message);
    expect(requests).toEqual([]);
  });
});

describe("metadata server (GCE/GKE, workload identity)", () => {
  test("no key file: the metadata server's token, asked with Metadata-Flavor: Google", async () => {
    const { p, requests } = provider({ GCE_METADATA_HOST: metaHost });
    const cred = await p.forHost("us-docker.pkg.dev");
    expect(cred).toEqual({ username: "oauth2accesstoken", password: "ya29.meta-1", source: "GCE metadata server", expiresAt: clock.t + 1_800_000 });
    expect(metaSeen.length).toBe(1);
    expect(metaSeen[0]?.get("metadata-flavor")).toBe("Google");
    expect(requests).toEqual([metaHost]);
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.meta-1");
    expect(metaSeen.length).toBe(1);
    clock.t += 1_800_000 - 300_000;
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.meta-2");
  });

  test("unreachable: anonymous, explained, and asked again only after a minute", async () => {
    const { p, requests } = provider({});
    expect(await p.forHost("gcr.io")).toBeUndefined();
    expect(await p.explain("gcr.io")).toMatch(new RegExp(`^gcr\\.io: anonymous \\(no Docker config; no Google credentials file; GCE metadata server http://${deadMeta.replace(/\./g, "\\.")}/\\S+ unreachable`));
    expect(requests.length).toBe(1);
    clock.t += 60_000;
    await p.forHost("gcr.io");
    expect(requests.length).toBe(2);
  });

  test("an error answer is an error naming the endpoint", async () => {
    metaStatus = 404;
    const { p } = provider({ GCE_METADATA_HOST: metaHost });
    expect((await failure(p.forHost("gcr.io"))).message).toBe(
      `GCE metadata server http://${metaHost}/computeMetadata/v1/instance/service-accounts/default/token: answered 404: no service account`,
    );
  });

  test("a server without Metadata-Flavor: Google is not a metadata server", async () => {
    metaFlavor = false;
    const { p } = provider({ GCE_METADATA_HOST: metaHost });
    expect((await failure(p.forHost("gcr.io"))).message).toEndWith(`answered 200 without "Metadata-Flavor: Google" (not a metadata server)`);
  });
});
