import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { CredentialError } from "./error.ts";
import { googleKeyLocation, googleTokenUri, loadGoogleKey, parseGoogleKey } from "./google-key.ts";
import { rsaPair, tempDir } from "./test-support.ts";

const dir = tempDir("google-key");
afterAll(() => dir.remove());
const pem = rsaPair().privatePem;

function thrown(fn: () => unknown): CredentialError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CredentialError) return err;
    throw err;
  }
  throw new Error("expected a CredentialError");
}

describe("parseGoogleKey", () => {
  test("service_account", () => {
    const key = parseGoogleKey(
      JSON.stringify({ type: "service_account", client_email: "sa@p.iam.gserviceaccount.com", private_key: pem, private_key_id: "abc", token_uri: "https://oauth2.googleapis.com/token" }),
      "/k.json",
    );
    expect(key).toMatchObject({ type: "service_account", clientEmail: "sa@p.iam.gserviceaccount.com", privateKeyId: "abc", tokenUri: googleTokenUri, file: "/k.json" });
  });

  test("authorized_user, token_uri defaulting to Google's", () => {
    const key = parseGoogleKey(JSON.stringify({ type: "authorized_user", client_id: "cid", client_secret: "cs", refresh_token: "rt" }), "/a.json");
    expect(key).toMatchObject({ type: "authorized_user", clientId: "cid", clientSecret: "cs", refreshToken: "rt", tokenUri: googleTokenUri });
  });

  test("mistakes are one-line input errors naming the file", () => {
    const cases: [unknown, RegExp][] = [
      ["{", /^Google credentials \/g\.json: not valid JSON$/],
      [[], /not a JSON object/],
      [{ type: "external_account" }, /type "external_account" is not supported \(service_account or authorized_user\)/],
      [{}, /type missing is not supported/],
      [{ type: "service_account", private_key: pem }, /service_account needs a "client_email" string/],
      [{ type: "service_account", client_email: "a", private_key: "-----BEGIN RSA PRIVATE KEY-----" }, /private_key is not a PKCS#8 PEM/],
      [{ type: "authorized_user", client_id: "a", client_secret: "b" }, /authorized_user needs a "refresh_token" string/],
      [{ type: "authorized_user", client_id: "a", client_secret: 5, refresh_token: "c" }, /"client_secret" is not a string/],
      [{ type: "authorized_user", client_id: "a", client_secret: "b", refresh_token: "c", token_uri: "http://tokens.example/t" }, /token_uri must be https/],
      [{ type: "authorized_user", client_id: "a", client_secret: "b", refresh_token: "c", token_uri: "::" }, /token_uri is not a URL/],
    ];
    for (const [doc, re] of cases) {
      const err = thrown(() => parseGoogleKey(typeof doc === "string" ? doc : JSON.stringify(doc), "/g.json"));
      expect(err.message).toMatch(re);
      expect(err.message).toContain("/g.json");
      expect(err.input).toBe(true);
    }
  });

  test("plain http token_uri only on loopback", () => {
    const doc = { type: "authorized_user", client_id: "a", client_secret: "b", refresh_token: "c", token_uri: "http://127.3.4.5:999/token" };
    expect(parseGoogleKey(JSON.stringify(doc), "f").tokenUri).toBe("http://127.3.4.5:999/token");
  });
});

describe("where the key is", () => {
  test("GOOGLE_APPLICATION_CREDENTIALS, then CLOUDSDK_CONFIG, then ~/.config/gcloud", () => {
    expect(googleKeyLocation({ GOOGLE_APPLICATION_CREDENTIALS: "/k.json", CLOUDSDK_CONFIG: "/c", HOME: "/h" })).toEqual({ path: "/k.json", explicit: true });
    expect(googleKeyLocation({ CLOUDSDK_CONFIG: "/c", HOME: "/h" })).toEqual({ path: "/c/application_default_credentials.json", explicit: false });
    expect(googleKeyLocation({ HOME: "/h" })).toEqual({ path: "/h/.config/gcloud/application_default_credentials.json", explicit: false });
    expect(googleKeyLocation({})).toBeUndefined();
  });

  test("no application-default file: undefined (the metadata server is next)", () => {
    expect(loadGoogleKey({ HOME: join(dir.path, "nobody") })).toBeUndefined();
  });

  test("a missing GOOGLE_APPLICATION_CREDENTIALS file is an input error", () => {
    const p = join(dir.path, "missing.json");
    const err = thrown(() => loadGoogleKey({ GOOGLE_APPLICATION_CREDENTIALS: p }));
    expect(err.message).toBe(`GOOGLE_APPLICATION_CREDENTIALS ${p}: cannot read it (ENOENT)`);
  });

  test("reads gcloud's file under HOME", () => {
    mkdirSync(join(dir.path, "home", ".config", "gcloud"), { recursive: true });
    dir.file("home/.config/gcloud/application_default_credentials.json", JSON.stringify({ type: "authorized_user", client_id: "a", client_secret: "b", refresh_token: "c" }));
    expect(loadGoogleKey({ HOME: join(dir.path, "home") })?.type).toBe("authorized_user");
  });
});
