// The auth layer's decisions against a scripted server (the real flows run against distribution
// in test/registry/token.test.ts): what is sent, in what order, how often.
import { describe, expect, test } from "bun:test";
import { Authenticator } from "./auth.ts";
import { BearerTokens } from "./bearer.ts";
import { FakeClock } from "./fake-clock.test-util.ts";
import type { Credential } from "./credentials/index.ts";
import { DeclaredRepositories } from "./declared.ts";
import { StatsStore } from "./stats.ts";
import { TokenCache } from "./token-cache.ts";
import type { HttpRequest, HttpResponse, RoundTrip } from "./types.ts";

interface Seen {
  method: string;
  url: string;
  authorization: string | null;
  body?: string;
}

const res = (status: number, headers: Record<string, string> = {}, body = ""): HttpResponse => ({
  status,
  headers: new Headers(headers),
  body: new TextEncoder().encode(body),
  url: new URL("http://x/"),
});

function setup(server: (req: HttpRequest, seen: Seen[]) => HttpResponse, cred?: Credential) {
  const seen: Seen[] = [];
  const clock = new FakeClock();
  const inner: RoundTrip = async (req) => {
    seen.push({
      method: req.method,
      url: req.url.href,
      authorization: req.headers.get("authorization"),
      ...(req.body && req.body.length > 0 ? { body: new TextDecoder().decode(req.body) } : {}),
    });
    return server(req, seen);
  };
  const credentials = { forHost: async () => cred };
  const bearer = new BearerTokens({
    send: inner,
    credentials,
    cache: new TokenCache(() => clock.now()),
    declared: new DeclaredRepositories(10),
    stats: new StatsStore(),
    clock,
    plainHttpAllowed: () => false,
  });
  const auth = new Authenticator({ credentials, bearer });
  return { send: auth.layer(inner), seen, clock };
}

const get = (repo: string): HttpRequest => ({
  method: "GET",
  url: new URL(`http://127.0.0.9:5000/v2/${repo}/manifests/v1`),
  headers: new Headers(),
  scopes: [{ repository: repo, actions: ["pull"] }],
});

const challenge = 'Bearer realm="http://127.0.0.9:6000/token",service="reg"';

describe("Authenticator", () => {
  test("cold: 401, token with service and scope and Basic credentials, then the request; then the cached token", async () => {
    let tokens = 0;
    const { send, seen } = setup(
      (req) => {
        if (req.url.pathname === "/token") return res(200, {}, JSON.stringify({ token: `tok${++tokens}`, expires_in: 300 }));
        return req.headers.get("authorization") === "Bearer tok1" ? res(200) : res(401, { "www-authenticate": challenge });
      },
      { username: "u", password: "p" },
    );
    expect((await send(get("a"))).status).toBe(200);
    expect((await send(get("a"))).status).toBe(200);
    expect(seen.map((s) => [s.method, s.url, s.authorization])).toEqual([
      ["GET", "http://127.0.0.9:5000/v2/a/manifests/v1", null],
      ["GET", "http://127.0.0.9:6000/token?service=reg&scope=repository%3Aa%3Apull", `Basic ${btoa("u:p")}`],
      ["GET", "http://127.0.0.9:5000/v2/a/manifests/v1", "Bearer tok1"],
      ["GET", "http://127.0.0.9:5000/v2/a/manifests/v1", "Bearer tok1"],
    ]);
  });

  test("a refused token is replaced once; a second refusal goes back to the caller", async () => {
    let tokens = 0;
    let refuse = 1;
    const { send, seen } = setup((req) => {
      if (req.url.pathname === "/token") return res(200, {}, JSON.stringify({ token: `tok${++tokens}` }));
      const auth = req.headers.get("authorization");
      if (auth !== null && refuse-- <= 0) return res(200);
      return res(401, { "www-authenticate": auth === null ? challenge : `${challenge},error="invalid_token"` });
    });
    expect((await send(get("a"))).status).toBe(200);
    expect(seen.filter((s) => s.url.includes("/token")).length).toBe(2);
    refuse = 99;
    const before = seen.length;
    expect((await send(get("a"))).status).toBe(401);
    // cached tok2 refused -> one fresh token -> refused again: returned
    expect(seen.slice(before).map((s) => (s.url.includes("/token") ? "token" : s.authorization))).toEqual(["Bearer tok2", "token", "Bearer tok3"]);
  });

  test("concurrent first requests to a host wait for the first one's challenge (one 401, one token)", async () => {
    const { send, seen } = setup((req) => {
      if (req.url.pathname === "/token") return res(200, {}, JSON.stringify({ token: "tok" }));
      return req.headers.get("authorization") === "Bearer tok" ? res(200) : res(401, { "www-authenticate": challenge });
    });
    await Promise.all([send(get("a")), send(get("a")), send(get("a"))]);
    expect(seen.filter((s) => !s.url.includes("/token") && s.authorization === null).length).toBe(1);
    expect(seen.filter((s) => s.url.includes("/token")).length).toBe(1);
  });

  test("Basic challenge: credentials once, a refusal is not repeated", async () => {
    const { send, seen } = setup(
      (req) => (req.headers.get("authorization") === `Basic ${btoa("u:p")}` ? res(200) : res(401, { "www-authenticate": 'Basic realm="r"' })),
      { username: "u", password: "p" },
    );
    expect((await send(get("a"))).status).toBe(200);
    expect((await send(get("b"))).status).toBe(200);
    expect(seen.map((s) => s.authorization)).toEqual([null, `Basic ${btoa("u:p")}`, `Basic ${btoa("u:p")}`]);
    const wrong = setup(() => res(401, { "www-authenticate": 'Basic realm="r"' }), { username: "u", password: "bad" });
    expect((await wrong.send(get("a"))).status).toBe(401);
    expect(wrong.seen.length).toBe(2);
  });

  test("an identity token is an OAuth2 refresh token POSTed to the realm", async () => {
    const { send, seen } = setup(
      (req) => {
        if (req.url.pathname === "/token") return res(200, {}, JSON.stringify({ access_token: "acc" }));
        return req.headers.get("authorization") === "Bearer acc" ? res(200) : res(401, { "www-authenticate": challenge });
      },
      { username: "<token>", password: "refresh-xyz", identityToken: "refresh-xyz" },
    );
    expect((await send(get("a"))).status).toBe(200);
    const post = seen[1];
    expect(post?.method).toBe("POST");
    expect(post?.authorization).toBeNull();
    expect(new URLSearchParams(post?.body ?? "").get("refresh_token")).toBe("refresh-xyz");
    expect(new URLSearchParams(post?.body ?? "").get("scope")).toBe("repository:a:pull");
    expect(new URLSearchParams(post?.body ?? "").get("grant_type")).toBe("refresh_token");
  });

  test("credentials never go to a plain-HTTP realm off loopback", async () => {
    const { send, seen } = setup(
      () => res(401, { "www-authenticate": 'Bearer realm="http://auth.example.com/token",service="s"' }),
      { username: "u", password: "p" },
    );
    await expect(send(get("a"))).rejects.toThrow(/refusing to send .* credentials to a plain-HTTP realm/);
    expect(seen.length).toBe(1);
  });
});
