import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findOnPath, getFromHelper } from "./cred-helper.ts";
import { CredentialError } from "./error.ts";
import { pathWith, tempDir, writeHelper } from "./test-support.ts";

const dir = tempDir("cred-helper");
afterAll(() => dir.remove());
const env = { PATH: pathWith(dir), HOME: dir.path, MARK: join(dir.path, "stdin.txt") };
const opts = { env, timeoutMs: 10_000 };

// Answers like docker-credential-helpers: JSON on success; "credentials not found in native keychain" + exit 1 when it has none.
writeHelper(
  dir,
  "store",
  `read -r server || true
printf '%s' "$server" > "$MARK"
case "$1:$server" in
  get:reg.example) printf '{"ServerURL":"https://reg.example","Username":"alice","Secret":"helper-secret-1"}\\n' ;;
  get:tok.example) printf '{"ServerURL":"tok.example","Username":"<token>","Secret":"helper-idtoken-2"}\\n' ;;
  get:noserver.example) printf '{"Username":"_dcgcloud_token","Secret":"helper-secret-3"}' ;;
  get:other.example) printf '{"ServerURL":"https://evil.example","Username":"x","Secret":"helper-secret-4"}' ;;
  get:https://index.docker.io/v1/) printf '{"ServerURL":"https://index.docker.io/v1/","Username":"hub","Secret":"helper-secret-5"}' ;;
  get:empty.example) printf '{"ServerURL":"","Username":"","Secret":""}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac`,
);
writeHelper(dir, "broken", `cat >/dev/null; echo "error getting credentials: keychain locked" >&2; exit 3`);
writeHelper(dir, "leaky", `cat >/dev/null; echo '{"Username":"u","Secret":"leaked-secret-6"}'; exit 1`);
writeHelper(dir, "notjson", `cat >/dev/null; echo 'hello'`);
writeHelper(dir, "slow", `sleep 30; echo done`);
dir.file("docker-credential-noexec", "#!/bin/sh\necho hi\n", 0o644);

async function failure(p: Promise<unknown>): Promise<CredentialError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CredentialError) return err;
    throw err;
  }
  throw new Error("expected a CredentialError");
}

describe("docker-credential-<name> get", () => {
  test("gets Username and Secret; the host is sent on stdin", async () => {
    expect(await getFromHelper("store", "reg.example", opts, "t")).toEqual({ username: "alice", password: "helper-secret-1" });
    expect(readFileSync(env.MARK, "utf8")).toBe("reg.example");
  });

  test("Username <token> is an identity token", async () => {
    expect(await getFromHelper("store", "tok.example", opts, "t")).toEqual({
      username: "<token>",
      password: "helper-idtoken-2",
      identityToken: "helper-idtoken-2",
    });
  });

  test("no ServerURL is accepted (gcloud's helper sends none); Docker Hub is asked by its URL", async () => {
    expect(await getFromHelper("store", "noserver.example", opts, "t")).toEqual({ username: "_dcgcloud_token", password: "helper-secret-3" });
    expect((await getFromHelper("store", "https://index.docker.io/v1/", opts, "t"))?.username).toBe("hub");
  });

  test("credentials not found, or an empty answer, is undefined", async () => {
    expect(await getFromHelper("store", "unknown.example", opts, "t")).toBeUndefined();
    expect(await getFromHelper("store", "empty.example", opts, "t")).toBeUndefined();
  });

  test("an answer for another server is refused", async () => {
    const err = await failure(getFromHelper("store", "other.example", opts, "credHelpers in f"));
    expect(err.message).toBe("docker-credential-store get for other.example (credHelpers in f): answered for another server (https://evil.example)");
  });

  test("failures are one line with the exit status and the helper's words", async () => {
    const err = await failure(getFromHelper("broken", "reg.example", opts, "credsStore in f"));
    expect(err.message).toBe("docker-credential-broken get for reg.example (credsStore in f): failed (exit 3): error getting credentials: keychain locked");
    expect(err.input).toBe(false);
  });

  test("a failing helper's output that may hold the secret is withheld", async () => {
    const err = await failure(getFromHelper("leaky", "reg.example", opts, "t"));
    expect(err.message).toContain("failed (exit 1): (output withheld)");
    expect(err.message).not.toContain("leaked-secret-6");
  });

  test("stdout that is not JSON", async () => {
    expect((await failure(getFromHelper("notjson", "reg.example", opts, "t"))).message).toContain("stdout is not JSON");
  });

  test("missing or not executable", async () => {
    expect((await failure(getFromHelper("absent", "reg.example", opts, "t"))).message).toBe(
      "docker-credential-absent get for reg.example (t): docker-credential-absent not found on PATH",
    );
    expect(findOnPath("docker-credential-noexec", env)).toBeUndefined();
    expect(findOnPath("docker-credential-store", env)).toBe(join(dir.path, "docker-credential-store"));
  });

  test("a helper that does not answer is killed after the timeout", async () => {
    const err = await failure(getFromHelper("slow", "reg.example", { env, timeoutMs: 300 }, "t"));
    expect(err.message).toBe("docker-credential-slow get for reg.example (t): no answer within 300 ms (killed)");
  });
});
