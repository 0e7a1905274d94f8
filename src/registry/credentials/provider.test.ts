// Precedence per host, through createCredentialProvider: Docker config (helper for the host,
// inline entry, default store), then the Google token for Google hosts, then anonymous.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allocateLoopback, hostOf } from "../../../test/harness/net.ts";
import { CredentialError } from "./error.ts";
import { createCredentialProvider, credentialsHelp } from "./index.ts";
import { b64, pathWith, tempDir, writeHelper } from "./test-support.ts";

const dir = tempDir("provider");
const log = join(dir.path, "helper-calls.log");
// Every run appends "<name> <server>" to the log, so tests count helper runs.
function helper(name: string, cases: string): void {
  writeHelper(
    dir,
    name,
    `read -r server || true
echo "${name} $server" >> "${log}"
case "$server" in
${cases}
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac`,
  );
}
helper("hostly", `  us-docker.pkg.dev|both.example) printf '{"ServerURL":"%s","Username":"hostly-user","Secret":"hostly-secret"}' "$server" ;;`);
helper("store", `  store.example|gcr.io) sleep 0.05; printf '{"Username":"store-user","Secret":"store-secret"}' ;;
  tok.example) printf '{"Username":"<token>","Secret":"store-idtoken"}' ;;`);

const metaAddr = await allocateLoopback();
let metaCalls = 0;
const meta = Bun.serve({
  hostname: metaAddr.ip,
  port: 0,
  fetch() {
    metaCalls++;
    return Response.json({ access_token: `ya29.meta-${metaCalls}`, expires_in: 3600 }, { headers: { "Metadata-Flavor": "Google" } });
  },
});
afterAll(() => {
  meta.stop(true);
  dir.remove();
});

const config = dir.file(
  "config.json",
  JSON.stringify({
    auths: {
      "https://reg.example/v1/": { auth: b64("inline-user:inline-pass") },
      "https://gcr.io": { auth: b64("gcr-inline:gcr-pass") },
      "both.example": { auth: b64("shadowed:shadowed-pass") },
      "id.example": { identitytoken: "inline-idtoken" },
      "store.example": {},
    },
    credHelpers: { "us-docker.pkg.dev": "hostly", "https://both.example": "hostly", "europe-docker.pkg.dev": "hostly" },
  }),
);
const storeConfig = dir.file("store.json", JSON.stringify({ auths: { "reg.example": { auth: b64("inline-user:inline-pass") }, "store.example": {} }, credsStore: "store" }));

let clock = 1_000_000;
const env = { PATH: pathWith(dir), HOME: join(dir.path, "home"), GCE_METADATA_HOST: hostOf({ ip: metaAddr.ip, port: meta.port ?? 0 }) };
function provider(file: string | undefined, extra: Partial<Parameters<typeof createCredentialProvider>[0]> = {}) {
  const tokens: string[] = [];
  const p = createCredentialProvider({ env, now: () => clock, onTokenRequest: (h) => tokens.push(h), ...(file ? { dockerConfigFile: file } : {}), ...extra });
  return { p, tokens };
}
function helperRuns(): string[] {
  try {
    return readFileSync(log, "utf8").trim().split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}
beforeEach(() => {
  writeFileSync(log, "");
  metaCalls = 0;
  clock = 1_000_000;
});

describe("precedence", () => {
  test("an inline auths entry, for any key spelling of the host", async () => {
    const { p } = provider(config);
    for (const h of ["reg.example", "https://reg.example/v2/", "REG.example"]) {
      expect(await p.forHost(h)).toEqual({ username: "inline-user", password: "inline-pass", source: `${config} auths["https://reg.example/v1/"]` });
    }
  });

  test("identitytoken: username <token>, password and identityToken the token", async () => {
    const { p } = provider(config);
    expect(await p.forHost("id.example")).toMatchObject({ username: "<token>", password: "inline-idtoken", identityToken: "inline-idtoken" });
  });

  test("Docker's entry for a Google host beats the Google token", async () => {
    const { p, tokens } = provider(config);
    expect(await p.forHost("gcr.io")).toMatchObject({ username: "gcr-inline", password: "gcr-pass" });
    expect(await p.forHost("us-docker.pkg.dev")).toMatchObject({ username: "hostly-user", password: "hostly-secret", source: `docker-credential-hostly (credHelpers in ${config})` });
    expect(tokens).toEqual([]);
    expect(metaCalls).toBe(0);
  });

  test("credHelpers for a host beats its inline entry (docker's order)", async () => {
    const { p } = provider(config);
    expect((await p.forHost("both.example"))?.username).toBe("hostly-user");
  });

  test("a helper with nothing for a Google host: the Google token", async () => {
    const { p, tokens } = provider(config);
    expect(await p.forHost("europe-docker.pkg.dev")).toMatchObject({ username: "oauth2accesstoken", password: "ya29.meta-1", source: "GCE metadata server" });
    expect(tokens.length).toBe(1);
    expect(helperRuns()).toEqual(["hostly europe-docker.pkg.dev"]);
  });

  test("no entry, not Google: anonymous, without asking anyone", async () => {
    const { p, tokens } = provider(config);
    expect(await p.forHost("registry.k8s.io")).toBeUndefined();
    expect(await p.explain("registry.k8s.io")).toBe(`registry.k8s.io: anonymous (no entry for registry.k8s.io in ${config})`);
    expect(tokens).toEqual([]);
    expect(helperRuns()).toEqual([]);
  });

  test("credsStore serves hosts without an inline entry ({} is docker's placeholder for it)", async () => {
    const { p } = provider(storeConfig);
    expect(await p.forHost("reg.example")).toMatchObject({ username: "inline-user" });
    expect(await p.forHost("store.example")).toMatchObject({ username: "store-user", password: "store-secret", source: `docker-credential-store (credsStore in ${storeConfig})` });
    expect(await p.forHost("tok.example")).toMatchObject({ username: "<token>", identityToken: "store-idtoken" });
    expect(await p.forHost("gcr.io")).toMatchObject({ username: "store-user" });
    expect(await p.forHost("nothing.example")).toBeUndefined();
    expect(await p.forHost("us-docker.pkg.dev")).toMatchObject({ username: "oauth2accesstoken" });
    expect(helperRuns().sort()).toEqual(["store gcr.io", "store nothing.example", "store store.example", "store tok.example", "store us-docker.pkg.dev"]);
  });

  test("the default config locations are used when no file is given", async () => {
    const home = join(dir.path, "home");
    mkdirSync(join(home, ".docker"), { recursive: true });
    writeFileSync(join(home, ".docker", "config.json"), JSON.stringify({ auths: { "home.example": { auth: b64("home-user:home-pass") } } }));
    expect((await provider(undefined).p.forHost("home.example"))?.username).toBe("home-user");
    const dc = join(dir.path, "dc");
    mkdirSync(dc);
    writeFileSync(join(dc, "config.json"), JSON.stringify({ auths: { "home.example": { auth: b64("dc-user:dc-pass") } } }));
    const p = createCredentialProvider({ env: { ...env, DOCKER_CONFIG: dc } });
    expect((await p.forHost("home.example"))?.username).toBe("dc-user");
  });

  test("a malformed config stops creation with an input error naming the file", () => {
    const bad = dir.file("bad.json", `{"auths": {"h": {"auth": "!!"}}}`);
    let err: unknown;
    try {
      createCredentialProvider({ env, dockerConfigFile: bad });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as CredentialError).message).toBe(`${bad}: auths["h"].auth is not base64 of "username:password"`);
    expect((err as CredentialError).input).toBe(true);
  });
});

describe("helper answers are cached", () => {
  test("one run per host within helperCacheMs; concurrent callers share it", async () => {
    const { p } = provider(storeConfig, { helperCacheMs: 60_000 });
    const all = await Promise.all(Array.from({ length: 10 }, () => p.forHost("store.example")));
    expect(new Set(all.map((c) => c?.password))).toEqual(new Set(["store-secret"]));
    expect(helperRuns()).toEqual(["store store.example"]);
    clock += 59_999;
    await p.forHost("store.example");
    expect(helperRuns().length).toBe(1);
    clock += 1;
    await p.forHost("store.example");
    expect(helperRuns().length).toBe(2);
  });

  test("not-found is cached too; forget(host) asks again", async () => {
    const { p } = provider(storeConfig);
    await p.forHost("nothing.example");
    await p.forHost("nothing.example");
    expect(helperRuns().length).toBe(1);
    p.forget("https://nothing.example/");
    await p.forHost("nothing.example");
    expect(helperRuns().length).toBe(2);
  });

  test("forget on a Google host drops the Google token", async () => {
    const { p } = provider(undefined);
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.meta-1");
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.meta-1");
    p.forget("gcr.io");
    expect((await p.forHost("gcr.io"))?.password).toBe("ya29.meta-2");
  });
});

test("help text states the precedence", () => {
  expect(credentialsHelp).toContain("--registry-config FILE");
  expect(credentialsHelp.indexOf("Docker config")).toBeLessThan(credentialsHelp.indexOf("oauth2accesstoken"));
  expect(credentialsHelp.indexOf("oauth2accesstoken")).toBeLessThan(credentialsHelp.indexOf("Anonymous"));
  for (const line of credentialsHelp.split("\n")) expect(line.length).toBeLessThanOrEqual(100);
});
