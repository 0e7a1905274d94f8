// The bearer token flow against distribution's token auth and the harness's token server:
// tokens cached per host and scope, one token for several declared repositories, one refresh on
// a 401, one exact re-request on insufficient_scope.
import { afterAll, describe, expect, test } from "bun:test";
import { pushImage, pushSignature, sigTag, startRegistry, type TestRegistry } from "../harness/index.ts";
import { RegistryError } from "../../src/registry/error.ts";
import { client, closeClients, credentialsFor } from "./lib.ts";

const registries: TestRegistry[] = [];
afterAll(async () => {
  closeClients();
  await Promise.all(registries.map((r) => r.stop()));
});

async function pair(token: Parameters<typeof startRegistry>[0] = {}): Promise<[TestRegistry, TestRegistry]> {
  const [a, b] = await Promise.all([startRegistry({ auth: "token" }), startRegistry({ auth: "token", ...token })]);
  registries.push(a, b);
  return [a, b];
}

async function signed(reg: TestRegistry, repo: string): Promise<{ tag: string; digest: string }> {
  const img = await pushImage(reg, repo);
  const sig = await pushSignature(reg, repo, img.digest);
  return { tag: sigTag(img.digest), digest: sig.digest };
}

describe("bearer tokens", () => {
  test("one token per host and scope, reused by later requests", async () => {
    const [src, dst] = await pair();
    const sigs = [await signed(src, "t/app"), await signed(src, "t/app"), await signed(src, "t/app")];
    const c = client({ credentials: credentialsFor([src, dst]) });
    for (const s of sigs) await c.copy({ host: src.host, repository: "t/app" }, { host: dst.host, repository: "m/app" }, s.tag, s.digest);
    expect(dst.tokenServer?.requests().length).toBe(1);
    expect(c.stats().find((h) => h.host === dst.host)?.tokenRequests).toBe(1);
  });

  test("declared repositories share one token (several scopes in one request)", async () => {
    const [src, dst] = await pair();
    const repos = ["r/a", "r/b", "r/c", "r/d", "r/e"];
    const sigs = await Promise.all(repos.map((r) => signed(src, r)));
    src.tokenServer?.clearRequests();
    const declared = client({ credentials: credentialsFor([src, dst]) });
    declared.declareRepositories(dst.host, repos.map((r) => `m/${r}`), "push");
    declared.declareRepositories(src.host, repos, "pull");
    for (const [i, r] of repos.entries()) {
      const s = sigs[i];
      if (s) await declared.copy({ host: src.host, repository: r }, { host: dst.host, repository: `m/${r}` }, s.tag, s.digest);
    }
    expect(dst.tokenServer?.requests().map((r) => r.scope)).toEqual([repos.map((r) => `repository:m/${r}:pull,push`)]);
    expect(src.tokenServer?.requests().length).toBe(1);

    dst.tokenServer?.clearRequests();
    const plain = client({ credentials: credentialsFor([src, dst]) });
    for (const [i, r] of repos.entries()) {
      const s = sigs[i];
      if (s) await plain.copy({ host: src.host, repository: r }, { host: dst.host, repository: `n/${r}` }, s.tag, s.digest);
    }
    expect(dst.tokenServer?.requests().length).toBe(5);
  });

  test("insufficient_scope: one exact re-request, then a one-line auth error; a batch refused in part still serves the rest", async () => {
    const [src, dst] = await pair({ token: { grant: (_u, claim) => (claim.name.startsWith("locked/") ? ["pull"] : claim.actions) } });
    const s = await signed(src, "t/app");
    const c = client({ credentials: credentialsFor([src, dst]) });
    c.declareRepositories(dst.host, ["open/a", "locked/b"], "push");
    await c.copy({ host: src.host, repository: "t/app" }, { host: dst.host, repository: "open/a" }, s.tag, s.digest);
    expect(dst.tokenServer?.requests().length).toBe(1);
    const blob = new TextEncoder().encode("a blob for a locked repository");
    const digest = `sha256:${new Bun.CryptoHasher("sha256").update(blob).digest("hex")}`;
    const err: unknown = await c.uploadBlob(dst.host, "locked/b", digest, blob).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    const e = err as RegistryError;
    expect(e.kind).toBe("auth");
    expect(e.status).toBe(401);
    expect(e.message).toMatch(new RegExp(`^${dst.host.replace(/\./g, "\\.")}: POST locked/b: 401 UNAUTHORIZED`));
    // the batch token, then exactly one request for locked/b alone
    expect(dst.tokenServer?.requests().map((r) => r.scope)).toEqual([
      ["repository:locked/b:pull,push", "repository:open/a:pull,push"],
      ["repository:locked/b:pull,push"],
    ]);
    // Refused even alone: not asked for again; other requests for it fail at once.
    await expect(c.uploadBlob(dst.host, "locked/b", digest, blob)).rejects.toThrow(/401 UNAUTHORIZED/);
    await expect(c.copy({ host: src.host, repository: "t/app" }, { host: dst.host, repository: "locked/b" }, s.tag, s.digest)).rejects.toThrow(/locked\/b.*401/);
    expect(dst.tokenServer?.requests().length).toBe(2);
  });

  test("a rejected token is refreshed once, not more", async () => {
    const [, dst] = await pair({ token: { expiresIn: -3600 } });
    const c = client({ credentials: credentialsFor([dst]) });
    await dst.clearLog();
    const err: unknown = await c.headManifest(dst.host, "t/app", "v1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(401);
    expect(dst.tokenServer?.requests().length).toBe(2);
    expect((await dst.accessLog()).length).toBe(3);
  });

  test("wrong credentials: the realm's refusal, naming where they came from", async () => {
    const [, dst] = await pair();
    const c = client({ credentials: credentialsFor([{ host: dst.host, credentials: { username: "sigmirror", password: "wrong-password-123" } }]) });
    const err: unknown = await c.headManifest(dst.host, "t/app", "v1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    const e = err as RegistryError;
    expect(e.kind).toBe("auth");
    expect(e.message).toContain("credentials from test refused");
    expect(e.message).not.toContain("wrong-password-123");
  });
});
