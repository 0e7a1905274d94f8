// Google's credential files: GOOGLE_APPLICATION_CREDENTIALS, or gcloud's application-default
// credentials (what `gcloud auth application-default login` writes).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CredentialError } from "./error.ts";
import { isLoopbackHostname } from "./hosts.ts";

type Env = Readonly<Record<string, string | undefined>>;

export const googleTokenUri = "https://oauth2.googleapis.com/token";

export interface ServiceAccountKey {
  readonly type: "service_account";
  readonly file: string;
  readonly clientEmail: string;
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  readonly privateKeyId: string | undefined;
  readonly tokenUri: string;
}

export interface AuthorizedUser {
  readonly type: "authorized_user";
  readonly file: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** Not in gcloud's files (Google's libraries accept it too): the default is Google's endpoint. */
  readonly tokenUri: string;
}

export type GoogleKey = ServiceAccountKey | AuthorizedUser;

/** `$GOOGLE_APPLICATION_CREDENTIALS`, else `$CLOUDSDK_CONFIG` or `~/.config/gcloud`'s application_default_credentials.json. */
export function googleKeyLocation(env: Env): { readonly path: string; readonly explicit: boolean } | undefined {
  const named = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (named !== undefined && named !== "") return { path: named, explicit: true };
  const sdk = env.CLOUDSDK_CONFIG;
  if (sdk !== undefined && sdk !== "") return { path: join(sdk, "application_default_credentials.json"), explicit: false };
  const home = env.HOME;
  if (home !== undefined && home !== "") return { path: join(home, ".config", "gcloud", "application_default_credentials.json"), explicit: false };
  return undefined;
}

/**
 * The key file, or undefined when there is none (then the metadata server is next). A file
 * named by GOOGLE_APPLICATION_CREDENTIALS must be readable, as Google's libraries require.
 */
export function loadGoogleKey(env: Env): GoogleKey | undefined {
  const where = googleKeyLocation(env);
  if (where === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(where.path, "utf8");
  } catch (err) {
    if (!where.explicit) return undefined;
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new CredentialError(`GOOGLE_APPLICATION_CREDENTIALS ${where.path}: cannot read it (${code})`, true);
  }
  return parseGoogleKey(text, where.path);
}

function checkTokenUri(file: string, uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new CredentialError(`${file}: token_uri is not a URL`, true);
  }
  // The assertion and the refresh token are as good as the key: never over plain HTTP off this machine.
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHostname(url.hostname))) return uri;
  throw new CredentialError(`${file}: token_uri must be https (plain http only on loopback)`, true);
}

export function parseGoogleKey(text: string, file: string): GoogleKey {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CredentialError(`Google credentials ${file}: not valid JSON`, true);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new CredentialError(`Google credentials ${file}: not a JSON object`, true);
  const rec = doc as Record<string, unknown>;
  const str = (name: string, required: boolean): string | undefined => {
    const v = rec[name];
    if (v === undefined || v === null || v === "") {
      if (required) throw new CredentialError(`Google credentials ${file}: ${String(rec.type)} needs a "${name}" string`, true);
      return undefined;
    }
    if (typeof v !== "string") throw new CredentialError(`Google credentials ${file}: "${name}" is not a string`, true);
    return v;
  };
  const type = rec.type;
  if (type === "service_account") {
    const privateKey = str("private_key", true) ?? "";
    if (!privateKey.includes("-----BEGIN PRIVATE KEY-----")) {
      throw new CredentialError(`Google credentials ${file}: private_key is not a PKCS#8 PEM ("BEGIN PRIVATE KEY")`, true);
    }
    return {
      type,
      file,
      clientEmail: str("client_email", true) ?? "",
      privateKey,
      privateKeyId: str("private_key_id", false),
      tokenUri: checkTokenUri(file, str("token_uri", false) ?? googleTokenUri),
    };
  }
  if (type === "authorized_user") {
    return {
      type,
      file,
      clientId: str("client_id", true) ?? "",
      clientSecret: str("client_secret", true) ?? "",
      refreshToken: str("refresh_token", true) ?? "",
      tokenUri: checkTokenUri(file, str("token_uri", false) ?? googleTokenUri),
    };
  }
  const shown = typeof type !== "string" ? "missing" : /^[a-z_]{1,40}$/.test(type) ? JSON.stringify(type) : "(not a known name)";
  throw new CredentialError(
    `Google credentials ${file}: type ${shown} is not supported (service_account or authorized_user)`,
    true,
  );
}
