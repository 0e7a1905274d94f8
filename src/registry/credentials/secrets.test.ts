// Known secrets go into every source; every failure path is driven; nothing thrown, explained
// or written to the console may contain any of them (as is or URL-encoded).
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { allocateLoopback } from "../../../test/harness/net.ts";
import { createCredentialProvider, type CredentialProviderOptions } from "./index.ts";
import { b64, pathWith, rsaPair, tempDir, writeHelper } from "./test-support.ts";

const dir = tempDir("secrets");
const pair = rsaPair();
const S = {
  dockerPass: "SECRET-docker-pass-a1",
  dockerPass2: "SECRET-docker-pass-b2",
  identity: "SECRET-identity-token-c3",
  helper: "SECRET-helper-d4",
  clientSecret: "SECRET-client-secret-e5",
  refresh: "1//SECRET-refresh+token/f6",
  accessToken: "ya29.SECRET-access-g7",
};
const privateBody = pair.privatePem.split("\n").filter((l) => l !== "" && !l.startsWith("-----")).join("");
const secrets = [...Object.values(S), privateBody, ...pair.privatePem.split("\n").filter((l) => l.length > 40)];
const assertions: string[] = [];

// A token endpoint that echoes everything it was sent back in its error, and a good one.
const addr = await allocateLoopback();
const server = Bun.serve({
  hostname: addr.ip,
  port: 0,
  async fetch(req) {
    const body = await req.text();
    const a = new URLSearchParams(body).get("assertion");
    if (a) assertions.push(a);
    if (new URL(req.url).pathname === "/good") return Response.json({ access_token: S.accessToken, expires_in: 3600 });
    return Response.json({ error: "invalid_grant", error_description: `you sent ${body} and ${decodeURIComponent(body)}` }, { status: 400 });
  },
});
const base = `http://${addr.ip}:${server.port}`;
afterAll(() => {
  server.stop(true);
  dir.remove();
});

writeHelper(dir, "leaky", `cat >/dev/null; echo '{"Username":"u","Secret":"${S.helper}"}'; echo "${S.helper}" >&2; exit 1`);
writeHelper(dir, "wrongserver", `cat >/dev/null; echo '{"ServerURL":"https://elsewhere.example","Username":"u","Secret":"${S.helper}"}'`);
writeHelper(dir, "garbage", `cat >/dev/null; echo 'Secret ${S.helper} {'`);
writeHelper(dir, "good", `cat >/dev/null; echo '{"Username":"u","Secret":"${S.helper}"}'`);
writeHelper(dir, "slowleak", `cat >/dev/null; echo "${S.helper}"; sleep 30`);

const env = { PATH: pathWith(dir), HOME: join(dir.path, "nohome"), GCE_METADATA_HOST: `${addr.ip}:${server.port}` };
const sa = (uri: string) => JSON.stringify({ type: "service_account", private_key: pair.privatePem, client_email: "sa@p.iam.gserviceaccount.com", token_uri: uri });
const user = (uri: string) => JSON.stringify({ type: "authorized_user", client_id: "cid", client_secret: S.clientSecret, refresh_token: S.refresh, token_uri: uri });

interface Scenario {
  readonly name: string;
  readonly config?: string;
  readonly env?: Record<string, string>;
  readonly host: string;
  readonly fetch?: CredentialProviderOptions["fetch"];
  readonly helperTimeoutMs?: number;
  /** true: the scenario must fail; false: it must succeed (and still leak nothing in explain). */
  readonly fails: boolean;
}

const scenarios: Scenario[] = [
  { name: "config not JSON", config: `{"auths": {"h": {"password": "${S.dockerPass}" }},, }`, host: "h", fails: true },
  { name: "auth not base64", config: JSON.stringify({ auths: { h: { auth: `${S.dockerPass}!` } } }), host: "h", fails: true },
  { name: "auth without colon", config: JSON.stringify({ auths: { h: { auth: b64(S.dockerPass) } } }), host: "h", fails: true },
  { name: "password without username", config: JSON.stringify({ auths: { h: { password: S.dockerPass } } }), host: "h", fails: true },
  { name: "identitytoken not a string", config: JSON.stringify({ auths: { h: { identitytoken: [S.identity] } } }), host: "h", fails: true },
  { name: "helper prints the secret and fails", config: JSON.stringify({ credHelpers: { h: "leaky" } }), host: "h", fails: true },
  { name: "helper answers for another server", config: JSON.stringify({ credsStore: "wrongserver" }), host: "h", fails: true },
  { name: "helper prints garbage with the secret", config: JSON.stringify({ credsStore: "garbage" }), host: "h", fails: true },
  { name: "helper times out after printing the secret", config: JSON.stringify({ credsStore: "slowleak" }), host: "h", helperTimeoutMs: 300, fails: true },
  { name: "inline credentials work", config: JSON.stringify({ auths: { h: { auth: b64(`u:${S.dockerPass2}`) }, i: { identitytoken: S.identity } } }), host: "h", fails: false },
  { name: "identity token works", config: JSON.stringify({ auths: { i: { identitytoken: S.identity } } }), host: "i", fails: false },
  { name: "helper works", config: JSON.stringify({ credsStore: "good" }), host: "h", fails: false },
  { name: "key file not JSON", env: { GOOGLE_APPLICATION_CREDENTIALS: dir.file("k1.json", `${user(`${base}/bad`)}}`) }, host: "gcr.io", fails: true },
  { name: "key of an unknown type", env: { GOOGLE_APPLICATION_CREDENTIALS: dir.file("k2.json", JSON.stringify({ type: S.refresh, refresh_token: S.refresh })) }, host: "gcr.io", fails: true },
  { name: "bad private key", env: { GOOGLE_APPLICATION_CREDENTIALS: dir.file("k3.json", sa(`${base}/bad`).replace(/MII/g, `${S.clientSecret}`)) }, host: "gcr.io", fails: true },
  { name: "refresh grant refused with an echo", env: { GOOGLE_APPLICATION_CREDENTIALS: dir.file("k4.json", user(`${base}/bad`)) }, host: "gcr.io", fails: true },
  { name: "JWT grant refused with an echo", env: { GOOGLE_APPLICATION_CREDENTIALS: dir.file("k5.json", sa(`${base}/bad`)) }, host: "gcr.io", fails: true },
  {
    name: "fetch throws with the request body in its message",
    env: { GOOGLE_APPLICATION_CREDENTIALS: dir.file("k6.json", user(`${base}/bad`)) },
    host: "gcr.io",
    fetch: async (_url, init) => {
      throw new Error(`socket closed while sending ${String(init.body)}`);
    },
    fails: true,
  },
  {
    name: "JWT fetch throws with the body",
    env: { GOOGLE_APPLICATION_CREDENTIALS: dir.file("k7.json", sa(`${base}/bad`)) },
    host: "gcr.io",
    fetch: async (_url, init) => {
      throw new Error(`reset: ${String(init.body)}`);
    },
    fails: true,
  },
  { name: "metadata answers an error", env: {}, host: "gcr.io", fails: true },
  { name: "refresh grant works", env: { GOOGLE_APPLICATION_CREDENTIALS: dir.file("k8.json", user(`${base}/good`)) }, host: "gcr.io", fails: false },
  { name: "JWT grant works", env: { GOOGLE_APPLICATION_CREDENTIALS: dir.file("k9.json", sa(`${base}/good`)) }, host: "us-docker.pkg.dev", fails: false },
];

test("no secret in any error, explanation, or console output", async () => {
  const printed: string[] = [];
  const originals = { log: console.log, error: console.error, warn: console.warn, info: console.info, debug: console.debug };
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture = (...args: unknown[]): void => {
    printed.push(args.map(String).join(" "));
  };
  const outcomes: { name: string; text: string; failed: boolean }[] = [];
  Object.assign(console, { log: capture, error: capture, warn: capture, info: capture, debug: capture });
  process.stdout.write = ((chunk: string | Uint8Array) => (printed.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (printed.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    for (const s of scenarios) {
      const texts: string[] = [];
      let failed = false;
      try {
        const cfg = s.config === undefined ? undefined : dir.file(`${s.name.replace(/\W+/g, "-")}.json`, s.config);
        const p = createCredentialProvider({
          env: { ...env, ...s.env },
          ...(cfg ? { dockerConfigFile: cfg } : {}),
          ...(s.fetch ? { fetch: s.fetch } : {}),
          ...(s.helperTimeoutMs ? { helperTimeoutMs: s.helperTimeoutMs } : {}),
        });
        const cred = await p.forHost(s.host);
        texts.push(await p.explain(s.host), String(cred?.source));
      } catch (e) {
        failed = true;
        texts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      }
      outcomes.push({ name: s.name, text: texts.join("\n"), failed });
    }
  } finally {
    Object.assign(console, originals);
    process.stdout.write = out;
    process.stderr.write = err;
  }
  expect(outcomes.map((o) => `${o.name}: ${o.failed}`)).toEqual(scenarios.map((s) => `${s.name}: ${s.fails}`));
  expect(assertions.length).toBeGreaterThan(0);
  // The signature is what makes an assertion usable: it must never show, not even cut short.
  const all = [...secrets, ...assertions, ...assertions.map((a) => a.split(".")[2] ?? a)];
  const leaks: string[] = [];
  for (const o of [...outcomes.map((x) => `${x.name}: ${x.text}`), ...printed]) {
    for (const sec of all) {
      for (const form of [sec, encodeURIComponent(sec), new URLSearchParams({ s: sec }).toString().slice(2)]) {
        if (o.includes(form)) leaks.push(`${o.slice(0, 80)} ... contains a secret`);
      }
    }
  }
  expect(leaks).toEqual([]);
  // Each failure is one line.
  for (const o of outcomes) if (o.failed) expect(o.text).not.toContain("\n");
});
