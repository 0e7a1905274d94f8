// The cases of the former src/log/redact.test.ts and src/registry/secrets.test.ts, in one table:
// one rule now serves logs, reports and registry errors, so each case holds for all of them.
import { describe, expect, test } from "bun:test";
import { isSecretKey, masked, redact, rememberSecret } from "./redact.ts";

const secret = "c2VjcmV0LXRva2VuLTEyMzQ1Njc4OTA";
const M = masked;

rememberSecret("hunter2-secret");
rememberSecret("ab"); // too short to remember: it would mangle ordinary text
rememberSecret("p@ss word/+=");
rememberSecret("shared-prefix");
rememberSecret("shared-prefix-and-more");

const cases: readonly (readonly [name: string, input: string, expected: string])[] = [
  // Remembered secrets, wherever they appear and however they look.
  ["a remembered secret", "bad password hunter2-secret for bob", `bad password ${M} for bob`],
  ["a remembered secret at both ends", "hunter2-secret and hunter2-secret", `${M} and ${M}`],
  ["a remembered secret, URL-encoded", `sent grant=${encodeURIComponent("p@ss word/+=")}&x=1`, `sent grant=${M}&x=1`],
  ["a remembered secret, form-encoded", `body a=p%40ss+word%2F%2B%3D`, `body a=${M}`],
  ["the longer of two remembered secrets, whole", "got shared-prefix-and-more.", `got ${M}.`],
  ["a short string is never remembered", "about the cab", "about the cab"],
  // Bearer and Basic values keep the scheme.
  ["a Bearer value", `sent Bearer ${secret}`, `sent Bearer ${M}`],
  ["a Bearer JWT", "sent Bearer eyJhbGciOi.abc.def then", `sent Bearer ${M} then`],
  ["a Basic value", "Basic dXNlcjpwYXNz== then", `Basic ${M} then`],
  ["a Basic value at the end", "Basic dXNlcjpwYXNz", `Basic ${M}`],
  ["a lower-case bearer with token68 characters", `bearer ${secret}.abc-def_ghi~jkl+m/n=`, `bearer ${M}`],
  // Authorization headers, whatever the scheme.
  ["an Authorization header", `Authorization: Bearer ${secret}`, `Authorization: ${M}`],
  ["authorization= with another scheme", `authorization=Token ${secret}; next`, `authorization=${M}; next`],
  ["only the header's value", `Authorization: Bearer ${secret} host=h`, `Authorization: ${M} host=h`],
  ["a Proxy-Authorization header", `Proxy-Authorization: Negotiate ${secret}`, `Proxy-Authorization: ${M}`],
  // A challenge's parameters are no secret.
  ["a Bearer challenge", 'Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"', 'Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"'],
  ["a Basic challenge", 'Basic realm="Registry Realm"', 'Basic realm="Registry Realm"'],
  // key=value and key: value.
  ["access_token= in a query", `https://auth.example/token?service=r&access_token=${secret}&scope=x`, `https://auth.example/token?service=r&access_token=${M}&scope=x`],
  ["password= in text", `password=${secret} user=bob`, `password=${M} user=bob`],
  ["refresh_token=", `refresh_token=${secret}`, `refresh_token=${M}`],
  ["refresh_token= in a form", "refresh_token=xyz123&x=1", `refresh_token=${M}&x=1`],
  ["client_secret= before a comma", `client_secret=${secret},`, `client_secret=${M},`],
  ["token=", `token=${secret}`, `token=${M}`],
  ["identitytoken=", `identitytoken=${secret}`, `identitytoken=${M}`],
  ["token: in a message", `token: ${secret} expired`, `token: ${M} expired`],
  ["password = quoted", `password = "${secret}"`, `password = "${M}"`],
  // JSON members.
  ["a token answer", '{"token":"abcdef","expires_in":60}', `{"token":"${M}","expires_in":60}`],
  ["token, access_token and auth members", `{"token":"${secret}","access_token":"${secret}","expires_in":300,"auth":"${secret}"}`, `{"token":"${M}","access_token":"${M}","expires_in":300,"auth":"${M}"}`],
  ["a member with an escaped quote", `{"identitytoken": "a\\"b${secret}"}`, `{"identitytoken": "${M}"}`],
  // URL userinfo.
  ["a URL's password", `https://bob:${secret}@registry.example/v2/`, `https://bob:${M}@registry.example/v2/`],
  // Ordinary text stays as it is.
  ["ordinary text", "copied sha256-abc.sig to us-west1-docker.pkg.dev/k8s-artifacts-prod/images/pause tokenRequests=3", "copied sha256-abc.sig to us-west1-docker.pkg.dev/k8s-artifacts-prod/images/pause tokenRequests=3"],
];

describe("redact", () => {
  test.each(cases)("%s", (_name, input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test.each(cases)("is idempotent: %s", (_name, input) => {
    const once = redact(input);
    expect(redact(once)).toBe(once);
  });

  test("masks every secret on a line that has many", () => {
    const once = redact(`Authorization: Bearer ${secret} token=${secret} {"token":"${secret}"} hunter2-secret`);
    expect(once).not.toContain(secret);
    expect(once).not.toContain("hunter2-secret");
  });

  test("never breaks a JSON line it is run over", () => {
    const tricky = ['token="', "token=\\", 'password=\\"x', "Authorization: \\\"", "https://u:p\\\"@h", "Bearer \\\"", 'token: "', "password:"];
    for (const t of tricky) {
      const line = JSON.stringify({ message: t, next: "x" });
      expect(() => JSON.parse(redact(line))).not.toThrow();
    }
  });

  test("still finds the newest secret among thousands", () => {
    for (let i = 0; i < 12_000; i++) rememberSecret(`bulk-secret-${i}`);
    expect(redact("a bulk-secret-11999 b")).toBe(`a ${M} b`);
    expect(redact("a bulk-secret-0 b")).toBe("a bulk-secret-0 b"); // forgotten: the oldest go first
  });
});

test("isSecretKey names the fields whose value is masked whole", () => {
  for (const k of ["authorization", "Authorization", "password", "registryToken", "auth", "clientSecret", "cookie"]) {
    expect(isSecretKey(k)).toBe(true);
  }
  for (const k of ["host", "repository", "tag", "digest", "author", "reason"]) expect(isSecretKey(k)).toBe(false);
});
