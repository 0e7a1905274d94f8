import { describe, expect, test } from "bun:test";
import { isSecretKey, redact } from "./redact.ts";

const secret = "c2VjcmV0LXRva2VuLTEyMzQ1Njc4OTA";

describe("redact", () => {
  test("masks Bearer and Basic values, keeps the scheme", () => {
    expect(redact(`sent Bearer ${secret}`)).toBe("sent Bearer [REDACTED]");
    expect(redact(`Basic dXNlcjpwYXNz== then`)).toBe("Basic [REDACTED] then");
    expect(redact(`bearer ${secret}.abc-def_ghi~jkl+m/n=`)).toBe("bearer [REDACTED]");
  });

  test("masks Authorization headers whatever the scheme", () => {
    expect(redact(`Authorization: Bearer ${secret}`)).toBe("Authorization: [REDACTED]");
    expect(redact(`authorization=Token ${secret}; next`)).toBe("authorization=[REDACTED]; next");
    expect(redact(`Proxy-Authorization: Negotiate ${secret}`)).not.toContain(secret);
    expect(redact(`Authorization: Bearer ${secret} host=h`)).toBe("Authorization: [REDACTED] host=h");
  });

  test("leaves a challenge's parameters readable", () => {
    const challenge = 'Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"';
    expect(redact(challenge)).toBe(challenge);
    expect(redact('Basic realm="Registry Realm"')).toBe('Basic realm="Registry Realm"');
  });

  test("masks token=, password=, access_token= and friends in queries and text", () => {
    const url = `https://auth.example/token?service=r&access_token=${secret}&scope=x`;
    expect(redact(url)).toBe("https://auth.example/token?service=r&access_token=[REDACTED]&scope=x");
    expect(redact(`password=${secret} user=bob`)).toBe("password=[REDACTED] user=bob");
    expect(redact(`refresh_token=${secret}`)).toBe("refresh_token=[REDACTED]");
    expect(redact(`client_secret=${secret},`)).toBe("client_secret=[REDACTED],");
    expect(redact(`token=${secret}`)).toBe("token=[REDACTED]");
  });

  test("masks JSON members of token responses and docker config", () => {
    const body = `{"token":"${secret}","access_token":"${secret}","expires_in":300,"auth":"${secret}"}`;
    expect(redact(body)).toBe('{"token":"[REDACTED]","access_token":"[REDACTED]","expires_in":300,"auth":"[REDACTED]"}');
    expect(redact(`{"identitytoken": "a\\"b${secret}"}`)).toBe('{"identitytoken": "[REDACTED]"}');
  });

  test("masks the password in a URL's userinfo", () => {
    expect(redact(`https://bob:${secret}@registry.example/v2/`)).toBe("https://bob:[REDACTED]@registry.example/v2/");
  });

  test("is idempotent and leaves ordinary text alone", () => {
    const once = redact(`Authorization: Bearer ${secret} token=${secret} {"token":"${secret}"}`);
    expect(redact(once)).toBe(once);
    expect(once).not.toContain(secret);
    const plain = "copied sha256-abc.sig to us-west1-docker.pkg.dev/k8s-artifacts-prod/images/pause tokenRequests=3";
    expect(redact(plain)).toBe(plain);
  });

  test("never breaks a JSON line it is run over", () => {
    const tricky = ['token="', "token=\\", 'password=\\"x', "Authorization: \\\"", "https://u:p\\\"@h", "Bearer \\\""];
    for (const t of tricky) {
      const line = JSON.stringify({ message: t });
      expect(() => JSON.parse(redact(line))).not.toThrow();
    }
  });

  test("isSecretKey names the fields whose value is masked whole", () => {
    for (const k of ["authorization", "Authorization", "password", "registryToken", "auth", "clientSecret", "cookie"]) {
      expect(isSecretKey(k)).toBe(true);
    }
    for (const k of ["host", "repository", "tag", "digest", "author", "reason"]) expect(isSecretKey(k)).toBe(false);
  });
});
