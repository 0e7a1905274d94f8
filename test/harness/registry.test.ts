import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isFree } from "./net.ts";
import { startRegistry, stopAllRegistries, type AuthFlavour, type TestRegistry } from "./registry.ts";

afterAll(stopAllRegistries);

async function get(reg: TestRegistry, path: string, init: RequestInit = {}, trust = true): Promise<Response> {
  const res = await fetch(`${reg.url}${path}`, {
    ...init,
    signal: AbortSignal.timeout(5000),
    ...(trust && reg.caPem ? { tls: { ca: reg.caPem } } : {}),
  });
  await res.clone().arrayBuffer();
  return res;
}

function basic(reg: TestRegistry, password?: string): Record<string, string> {
  const c = reg.credentials;
  if (!c) throw new Error("no credentials");
  return { Authorization: `Basic ${Buffer.from(`${c.username}:${password ?? c.password}`).toString("base64")}` };
}

async function token(reg: TestRegistry, scope: string, auth: Record<string, string> = basic(reg)): Promise<string> {
  const ts = reg.tokenServer;
  if (!ts) throw new Error("no token server");
  const res = await fetch(`${ts.realm}?service=${encodeURIComponent(ts.service)}&scope=${encodeURIComponent(scope)}`, { headers: auth });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { token: string };
  return body.token;
}

describe("startRegistry: anonymous", () => {
  test("serves /v2/ on a random loopback host, not 127.0.0.1", async () => {
    await using reg = await startRegistry();
    expect(reg.host).toMatch(/^127\.\d+\.\d+\.\d+:\d+$/);
    expect(reg.ip).not.toBe("127.0.0.1");
    expect(reg.url).toBe(`http://${reg.host}`);
    expect(reg.credentials).toBeUndefined();
    const res = await get(reg, "/v2/");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  test("stop() frees the port, removes the directory and is idempotent", async () => {
    const reg = await startRegistry();
    expect(await isFree(reg.ip, reg.port)).toBe(false);
    expect(existsSync(reg.dir)).toBe(true);
    await reg.stop();
    await reg.stop();
    expect(await isFree(reg.ip, reg.port)).toBe(true);
    expect(existsSync(reg.dir)).toBe(false);
    expect(() => process.kill(reg.pid, 0)).toThrow();
  });

  test("two registries run at once on distinct hosts with separate storage", async () => {
    await using a = await startRegistry();
    await using b = await startRegistry();
    expect(a.host).not.toBe(b.host);
    expect(a.dir).not.toBe(b.dir);
    const put = await fetch(`${a.url}/v2/only-a/blobs/uploads/`, { method: "POST" });
    expect(put.status).toBe(202);
    await put.arrayBuffer();
    const catA = (await (await get(a, "/v2/_catalog")).json()) as { repositories: string[] };
    const catB = (await (await get(b, "/v2/_catalog")).json()) as { repositories: string[] };
    expect((await a.accessLog()).map((e) => e.method)).toEqual(["POST", "GET"]);
    expect((await b.accessLog()).map((e) => e.method)).toEqual(["GET"]);
    expect(catA.repositories).toEqual([]); // an upload session alone does not create a repository
    expect(catB.repositories).toEqual([]);
  });
});

describe("accessLog", () => {
  test("counts exactly the requests made, HEADs and 404s included, and clearLog restarts the count", async () => {
    await using reg = await startRegistry();
    expect(await reg.accessLog()).toEqual([]); // readiness polls are not counted
    for (let i = 0; i < 3; i++) expect((await get(reg, "/v2/x/manifests/latest", { method: "HEAD" })).status).toBe(404);
    expect((await get(reg, "/v2/")).status).toBe(200);
    expect(await reg.requestCounts()).toEqual({ HEAD: 3, GET: 1 });
    const log = await reg.accessLog();
    expect(log.map((e) => [e.method, e.path, e.status])).toEqual([
      ["HEAD", "/v2/x/manifests/latest", 404],
      ["HEAD", "/v2/x/manifests/latest", 404],
      ["HEAD", "/v2/x/manifests/latest", 404],
      ["GET", "/v2/", 200],
    ]);
    for (const e of log) expect(Math.abs(e.time - Date.now())).toBeLessThan(60_000);
    await reg.clearLog();
    expect(await reg.requestCounts()).toEqual({});
    await get(reg, "/v2/y/tags/list");
    expect(await reg.requestCounts()).toEqual({ GET: 1 });
  });
});

describe("startRegistry: htpasswd", () => {
  test("401 Basic challenge without credentials or with a wrong password, 200 with them", async () => {
    await using reg = await startRegistry({ auth: "htpasswd", users: [{ username: "alice", password: "s3cret" }, { username: "bob", password: "hunter2" }] });
    expect(reg.credentials).toEqual({ username: "alice", password: "s3cret" });
    const anon = await get(reg, "/v2/");
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    expect((await get(reg, "/v2/", { headers: basic(reg, "wrong") })).status).toBe(401);
    expect((await get(reg, "/v2/", { headers: basic(reg) })).status).toBe(200);
    const bob = { Authorization: `Basic ${Buffer.from("bob:hunter2").toString("base64")}` };
    expect((await get(reg, "/v2/", { headers: bob })).status).toBe(200);
    expect((await reg.accessLog()).map((e) => e.status)).toEqual([401, 401, 200, 200]);
  });
});

describe("startRegistry: token", () => {
  test("401 Bearer challenge names realm and service; a token for repo a pulls/pushes a but not b", async () => {
    await using reg = await startRegistry({ auth: "token" });
    const ts = reg.tokenServer;
    expect(ts).toBeDefined();
    if (!ts) return;
    const challenge = (await get(reg, "/v2/a/manifests/latest")).headers.get("www-authenticate") ?? "";
    expect(challenge).toContain(`Bearer realm="${ts.realm}"`);
    expect(challenge).toContain(`service="${ts.service}"`);
    expect(challenge).toContain(`scope="repository:a:pull"`);

    const tokenA = await token(reg, "repository:a:pull,push");
    const bearer = { Authorization: `Bearer ${tokenA}` };
    expect((await get(reg, "/v2/a/manifests/latest", { headers: bearer })).status).toBe(404); // authorized, absent
    expect((await get(reg, "/v2/a/blobs/uploads/", { method: "POST", headers: bearer })).status).toBe(202);
    const denied = await get(reg, "/v2/b/blobs/uploads/", { method: "POST", headers: bearer });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain(`error="insufficient_scope"`);
    expect(ts.requests()).toEqual([expect.objectContaining({ scope: ["repository:a:pull,push"], user: reg.credentials?.username, status: 200 })]);
  });

  test("wrong credentials get 401 from the token server; anonymous tokens grant nothing", async () => {
    await using reg = await startRegistry({ auth: "token" });
    const ts = reg.tokenServer;
    if (!ts) throw new Error("no token server");
    const wrong = await fetch(`${ts.realm}?service=${ts.service}&scope=repository:a:pull`, { headers: basic(reg, "nope") });
    expect(wrong.status).toBe(401);
    await wrong.arrayBuffer();
    const anon = await token(reg, "repository:a:pull", {});
    expect((await get(reg, "/v2/a/tags/list", { headers: { Authorization: `Bearer ${anon}` } })).status).toBe(401);
    expect(ts.requests().map((r) => [r.status, r.user])).toEqual([[401, undefined], [200, undefined]]);
  });

  test("an expired token is refused", async () => {
    await using reg = await startRegistry({ auth: "token" });
    const ts = reg.tokenServer;
    if (!ts) throw new Error("no token server");
    const access = [{ type: "repository", name: "a", actions: ["pull"] }];
    const fresh = ts.mint("sigmirror", access);
    const expired = ts.mint("sigmirror", access, { expiresIn: -600 });
    expect((await get(reg, "/v2/a/tags/list", { headers: { Authorization: `Bearer ${fresh}` } })).status).toBe(404);
    expect((await get(reg, "/v2/a/tags/list", { headers: { Authorization: `Bearer ${expired}` } })).status).toBe(401);
  });

  test("two registries can trust one shared token server", async () => {
    await using first = await startRegistry({ auth: "token" });
    const shared = first.tokenServer;
    if (!shared) throw new Error("no token server");
    await using second = await startRegistry({ auth: "token", tokenServer: shared });
    const t = await token(first, "repository:a:pull");
    expect((await get(second, "/v2/a/tags/list", { headers: { Authorization: `Bearer ${t}` } })).status).toBe(404);
    await second.stop();
    expect((await fetch(`${shared.realm}?service=${shared.service}`)).status).toBe(200); // not stopped by the borrower
  });
});

describe("startRegistry: TLS", () => {
  const flavours: AuthFlavour[] = ["anonymous", "htpasswd", "token"];
  for (const auth of flavours) {
    test(`${auth} over TLS: trusted with caFile, refused without it`, async () => {
      await using reg = await startRegistry({ auth, tls: true });
      expect(reg.url).toBe(`https://${reg.host}`);
      expect(reg.caFile).toBeDefined();
      const trusted = await get(reg, "/v2/");
      expect(trusted.status).toBe(auth === "anonymous" ? 200 : 401);
      if (auth === "htpasswd") expect((await get(reg, "/v2/", { headers: basic(reg) })).status).toBe(200);
      if (auth === "token") {
        const t = await token(reg, "repository:a:pull");
        expect((await get(reg, "/v2/a/tags/list", { headers: { Authorization: `Bearer ${t}` } })).status).toBe(404);
      }
      let failure: unknown;
      try {
        await get(reg, "/v2/", {}, false);
      } catch (err) {
        failure = err;
      }
      expect(String(failure)).toMatch(/certificate|self.signed|verify|issuer/i);
      const plain = await fetch(`http://${reg.host}/v2/`).then((r) => r.status, (err: unknown) => String(err));
      expect(plain).toBe(400); // Go answers plain HTTP on a TLS port with 400
    });
  }

  test("one shared CA trusts every TLS registry of the process", async () => {
    await using a = await startRegistry({ tls: true });
    await using b = await startRegistry({ tls: true });
    expect(a.caFile).toBe(b.caFile ?? "");
    expect((await fetch(`${b.url}/v2/`, { tls: { ca: a.caPem ?? "" } })).status).toBe(200);
  });
});

describe("startRegistry: failures", () => {
  test("a registry that cannot start rejects with its own log, and leaves nothing behind", async () => {
    const marker = `refused-${crypto.randomUUID()}`;
    let message = "";
    try {
      // two storage drivers: refused at start
      await startRegistry({ extraConfig: { storage: { inmemory: {} }, http: { secret: marker } } });
    } catch (err) {
      message = String(err);
    }
    expect(message).toContain("docker-registry exited");
    expect(message).toMatch(/storage/i);
    const leftovers = readdirSync(tmpdir()).filter((d) => {
      if (!d.startsWith("sigmirror-registry-")) return false;
      try {
        return readFileSync(join(tmpdir(), d, "config.yml"), "utf8").includes(marker);
      } catch {
        return false;
      }
    });
    expect(leftovers).toEqual([]);
  });

  test("extraConfig is merged into the generated config", async () => {
    await using reg = await startRegistry({ extraConfig: { http: { headers: { "X-Harness-Test": ["yes"] } } } });
    const res = await get(reg, "/v2/");
    expect(res.headers.get("x-harness-test")).toBe("yes");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
