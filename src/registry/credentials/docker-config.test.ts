import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { dockerConfigLocation, loadDockerConfig, parseDockerConfig } from "./docker-config.ts";
import { CredentialError } from "./error.ts";
import { b64, tempDir } from "./test-support.ts";

const dir = tempDir("docker-config");
afterAll(() => dir.remove());

function thrown(fn: () => unknown): CredentialError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CredentialError) return err;
    throw err;
  }
  throw new Error("expected a CredentialError");
}

describe("parseDockerConfig", () => {
  test("auth, username/password and identitytoken entries", () => {
    const cfg = parseDockerConfig(
      JSON.stringify({
        auths: {
          "https://one.example": { auth: b64("alice:pa:ss") },
          "two.example:5000": { username: "bob", password: "hunter2" },
          "https://three.example/v1/": { identitytoken: "idtok-3" },
          "four.example": {},
        },
      }),
      "/x/config.json",
    );
    expect(cfg.auths.get("one.example")).toMatchObject({ username: "alice", password: "pa:ss" });
    expect(cfg.auths.get("two.example:5000")).toMatchObject({ username: "bob", password: "hunter2" });
    expect(cfg.auths.get("three.example")).toMatchObject({ username: "<token>", password: "idtok-3", identityToken: "idtok-3" });
    expect(cfg.auths.has("four.example")).toBe(false);
    expect(cfg.file).toBe("/x/config.json");
  });

  test("identitytoken beats auth, which beats username/password (docker's order)", () => {
    const cfg = parseDockerConfig(
      JSON.stringify({
        auths: {
          a: { auth: b64("u1:p1"), username: "u2", password: "p2", identitytoken: "t" },
          b: { auth: b64("u1:p1"), username: "u2", password: "p2" },
        },
      }),
      "f",
    );
    expect(cfg.auths.get("a")?.identityToken).toBe("t");
    expect(cfg.auths.get("b")).toMatchObject({ username: "u1", password: "p1" });
  });

  test("several keys for one host: the bare host wins", () => {
    const cfg = parseDockerConfig(
      JSON.stringify({ auths: { "https://h.example": { auth: b64("a:1") }, "h.example": { auth: b64("b:2") }, "http://h.example/v2/": { auth: b64("c:3") } } }),
      "f",
    );
    expect(cfg.auths.get("h.example")?.username).toBe("b");
  });

  test("credHelpers and credsStore", () => {
    const cfg = parseDockerConfig(JSON.stringify({ credHelpers: { "https://GCR.io": "gcloud", "us-docker.pkg.dev": "gcr" }, credsStore: "desktop" }), "f");
    expect(cfg.credHelpers.get("gcr.io")).toBe("gcloud");
    expect(cfg.credHelpers.get("us-docker.pkg.dev")).toBe("gcr");
    expect(cfg.credsStore).toBe("desktop");
    expect(parseDockerConfig(JSON.stringify({ credsStore: "" }), "f").credsStore).toBeUndefined();
  });

  test("an empty file and unknown fields are fine", () => {
    expect(parseDockerConfig("  \n", "f").auths.size).toBe(0);
    expect(parseDockerConfig(JSON.stringify({ HttpHeaders: { a: "b" }, psFormat: "x", auths: null }), "f").auths.size).toBe(0);
  });

  test("malformed files are one-line input errors naming the file and field", () => {
    const cases: [string, RegExp][] = [
      ["{not json", /^registry config \/c\/config\.json: not valid JSON/],
      ["[]", /not a JSON object/],
      [JSON.stringify({ auths: [] }), /\/c\/config\.json: auths is not an object/],
      [JSON.stringify({ auths: { h: "x" } }), /auths\["h"\] is not an object/],
      [JSON.stringify({ auths: { h: { auth: "!!!" } } }), /auths\["h"\]\.auth is not base64 of "username:password"/],
      [JSON.stringify({ auths: { h: { auth: b64("nocolon") } } }), /auths\["h"\]\.auth is not base64/],
      [JSON.stringify({ auths: { h: { username: "u" } } }), /auths\["h"\] has a username but no password/],
      [JSON.stringify({ auths: { h: { password: "p" } } }), /auths\["h"\] has a password but no username/],
      [JSON.stringify({ auths: { h: { auth: 5 } } }), /auths\["h"\]\.auth is not a string/],
      [JSON.stringify({ credHelpers: { h: "../../bin/evil" } }), /credHelpers\["h"\] is not a helper name/],
      [JSON.stringify({ credHelpers: { h: 3 } }), /credHelpers\["h"\] is not a helper name/],
      [JSON.stringify({ credsStore: "a b" }), /credsStore is not a helper name/],
    ];
    for (const [text, re] of cases) {
      const err = thrown(() => parseDockerConfig(text, "/c/config.json"));
      expect(err.message).toMatch(re);
      expect(err.message).not.toContain("\n");
      expect(err.input).toBe(true);
    }
  });

  test("a JSON error does not quote the file (it may hold secrets)", () => {
    const err = thrown(() => parseDockerConfig(`{"auths": {"h": {"password": "s3cr3t-value" oops}}}`, "f"));
    expect(err.message).not.toContain("s3cr3t");
  });
});

describe("where the config is", () => {
  test("--registry-config, then DOCKER_CONFIG, then HOME", () => {
    expect(dockerConfigLocation({ DOCKER_CONFIG: "/d", HOME: "/h" }, "/flag.json")).toEqual({ path: "/flag.json", explicit: true });
    expect(dockerConfigLocation({ DOCKER_CONFIG: "/d", HOME: "/h" })).toEqual({ path: "/d/config.json", explicit: false });
    expect(dockerConfigLocation({ HOME: "/h" })).toEqual({ path: "/h/.docker/config.json", explicit: false });
    expect(dockerConfigLocation({})).toBeUndefined();
  });

  test("reads the file that is found", () => {
    mkdirSync(join(dir.path, "home", ".docker"), { recursive: true });
    dir.file("home/.docker/config.json", JSON.stringify({ auths: { "home.example": { auth: b64("h:1") } } }));
    mkdirSync(join(dir.path, "dc"));
    dir.file("dc/config.json", JSON.stringify({ auths: { "dc.example": { auth: b64("d:2") } } }));
    const flag = dir.file("flag.json", JSON.stringify({ auths: { "flag.example": { auth: b64("f:3") } } }));
    const home = join(dir.path, "home");
    expect([...loadDockerConfig({ HOME: home }).auths.keys()]).toEqual(["home.example"]);
    expect([...loadDockerConfig({ HOME: home, DOCKER_CONFIG: join(dir.path, "dc") }).auths.keys()]).toEqual(["dc.example"]);
    expect([...loadDockerConfig({ HOME: home, DOCKER_CONFIG: join(dir.path, "dc") }, flag).auths.keys()]).toEqual(["flag.example"]);
  });

  test("a missing or unreadable default config means no entries", () => {
    expect(loadDockerConfig({ HOME: join(dir.path, "nobody") }).auths.size).toBe(0);
    expect(loadDockerConfig({ DOCKER_CONFIG: join(dir.path, "nowhere") }).file).toBeUndefined();
    mkdirSync(join(dir.path, "isdir", "config.json"), { recursive: true });
    expect(loadDockerConfig({ DOCKER_CONFIG: join(dir.path, "isdir") }).auths.size).toBe(0);
    if (process.getuid?.() !== 0) {
      mkdirSync(join(dir.path, "locked"));
      const p = dir.file("locked/config.json", "{}");
      chmodSync(p, 0);
      expect(loadDockerConfig({ DOCKER_CONFIG: join(dir.path, "locked") }).auths.size).toBe(0);
    }
  });

  test("a missing --registry-config is an input error naming it", () => {
    const missing = join(dir.path, "typo.json");
    const err = thrown(() => loadDockerConfig({}, missing));
    expect(err.message).toBe(`registry config ${missing}: cannot read it (ENOENT)`);
    expect(err.input).toBe(true);
  });

  test("a malformed default config is an error naming the file", () => {
    mkdirSync(join(dir.path, "bad"));
    const p = dir.file("bad/config.json", "{");
    expect(thrown(() => loadDockerConfig({ DOCKER_CONFIG: join(dir.path, "bad") })).message).toContain(p);
  });
});
