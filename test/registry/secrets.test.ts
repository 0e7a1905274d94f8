// Known passwords and tokens go through every path (success, refusal, a realm that echoes what
// it was sent); nothing the client produces (error messages, stacks, error fields, stats) holds
// any of them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { allocateLoopback, pushImage, pushSignature, sigTag, startRegistry, type TestRegistry } from "../harness/index.ts";
import type { Credential } from "../../src/registry/credentials/index.ts";
import { client, closeClients, StaticCredentials } from "./lib.ts";

const password = "S3cret-Pa55word-for-tests";
const wrongPassword = "Wr0ng-Pa55word-for-tests";
const identityToken = "refresh-token-XYZ-0123456789";
const users = [{ username: "sigmirror", password }];

let basic: TestRegistry;
let token: TestRegistry;
let echo: ReturnType<typeof Bun.serve>;
let echoHost = "";
const output: string[] = [];

beforeAll(async () => {
  [basic, token] = await Promise.all([startRegistry({ auth: "htpasswd", users }), startRegistry({ auth: "token", users })]);
  const addr = await allocateLoopback();
  // A registry whose realm repeats back everything it was sent, as a careless one might.
  echo = Bun.serve({
    hostname: addr.ip,
    port: addr.port,
    async fetch(req) {
      const url = new URL(req.url);
      const sent = `${req.headers.get("authorization") ?? ""} ${await req.text()} ${url.search}`;
      if (url.pathname === "/token") return Response.json({ errors: [{ code: "DENIED", message: `bad credentials: ${sent}` }] }, { status: 401 });
      return new Response(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: `you sent ${sent}` }] }), {
        status: 401,
        headers: { "www-authenticate": `Bearer realm="http://${addr.ip}:${addr.port}/token",service="echo"`, "content-type": "application/json" },
      });
    },
  });
  echoHost = `${addr.ip}:${addr.port}`;
});
afterAll(async () => {
  closeClients();
  await echo?.stop(true);
  await Promise.all([basic?.stop(), token?.stop()]);
});

function capture(err: unknown): void {
  if (err instanceof Error) output.push(err.message, String(err), err.stack ?? "", JSON.stringify(err), JSON.stringify({ ...err }));
  else output.push(String(err));
}

async function attempt(run: () => Promise<unknown>): Promise<void> {
  try {
    output.push(JSON.stringify(await run()));
  } catch (err) {
    capture(err);
  }
}

test("no password, token or Authorization value in any error, field or stats", async () => {
  const good = (host: string): [string, Credential] => [host, { username: "sigmirror", password }];
  const right = new StaticCredentials(new Map([good(basic.host), good(token.host), good(echoHost)]));
  const wrong = new StaticCredentials(new Map([basic.host, token.host].map((h) => [h, { username: "sigmirror", password: wrongPassword }])));
  const identity = new StaticCredentials(new Map([[echoHost, { username: "<token>", password: identityToken, identityToken }]]));

  const img = await pushImage(token, "s/app");
  const sig = await pushSignature(token, "s/app", img.digest);
  const ok = client({ credentials: right });
  await attempt(() => ok.copy({ host: token.host, repository: "s/app" }, { host: basic.host, repository: "m/app" }, sigTag(img.digest), sig.digest));
  await attempt(() => ok.listTags(token.host, "s/app"));
  await attempt(() => ok.headManifest(echoHost, "s/app", "v1"));
  const bad = client({ credentials: wrong });
  await attempt(() => bad.headManifest(basic.host, "s/app", "v1"));
  await attempt(() => bad.getManifest(token.host, "s/app", sig.digest));
  await attempt(() => bad.uploadBlob(basic.host, "s/app", sig.digest, sig.bytes));
  const id = client({ credentials: identity });
  await attempt(() => id.headManifest(echoHost, "s/app", "v1"));
  for (const c of [ok, bad, id]) output.push(JSON.stringify(c.stats()));

  const all = output.join("\n");
  // The runs did reach the places where secrets could leak.
  expect(all).toContain("UNAUTHORIZED");
  expect(all).toContain(echoHost);
  expect(all).toContain(`"digest":"${sig.digest}"`);
  for (const secret of [password, wrongPassword, identityToken, btoa(`sigmirror:${password}`), btoa(`sigmirror:${wrongPassword}`)]) {
    expect(all).not.toContain(secret);
  }
  expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT (the token server's tokens)
  expect(all).not.toMatch(/(Bearer|Basic) (?!\*\*\*)[A-Za-z0-9+/=._-]{6,}/);
}, 60_000);
