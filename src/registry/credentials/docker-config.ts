// Docker's config.json: where it is, and what it says about each registry host.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CredentialError, messageOf } from "./error.ts";
import { normalizeHost } from "./hosts.ts";

/** Docker's username for an identity token (what credential helpers return for one, too). */
export const identityTokenUsername = "<token>";

/** Credentials written in the file itself (`auths`). */
export interface InlineCredential {
  readonly username: string;
  readonly password: string;
  /** Set when the entry is an `identitytoken` (then username is `<token>`, password the token). */
  readonly identityToken?: string;
  /** The key as written, for messages. */
  readonly key: string;
}

export interface DockerConfig {
  /** The file read, if any (for messages). */
  readonly file: string | undefined;
  /** Normalised host -> credentials; entries without credentials (`{}`, docker's placeholder when a store holds them) are left out. */
  readonly auths: ReadonlyMap<string, InlineCredential>;
  /** Normalised host -> helper name (`docker-credential-<name>`). */
  readonly credHelpers: ReadonlyMap<string, string>;
  /** The default helper, if any. */
  readonly credsStore: string | undefined;
}

export const emptyDockerConfig: DockerConfig = { file: undefined, auths: new Map(), credHelpers: new Map(), credsStore: undefined };

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The helper that serves `host` (normalised), as docker picks it: the host's credHelpers entry,
 * else none when auths has the host, else credsStore. `origin` names the config's field and file.
 */
export function helperFor(docker: DockerConfig, host: string): { readonly name: string; readonly origin: string } | undefined {
  const configName = docker.file ?? "Docker config";
  const own = docker.credHelpers.get(host);
  if (own !== undefined) return { name: own, origin: `credHelpers in ${configName}` };
  if (docker.auths.has(host) || docker.credsStore === undefined) return undefined;
  return { name: docker.credsStore, origin: `credsStore in ${configName}` };
}

/** `--registry-config FILE`, else `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`. */
export function dockerConfigLocation(env: Env, explicitFile?: string): { readonly path: string; readonly explicit: boolean } | undefined {
  if (explicitFile !== undefined) return { path: explicitFile, explicit: true };
  const dir = env.DOCKER_CONFIG;
  if (dir !== undefined && dir !== "") return { path: join(dir, "config.json"), explicit: false };
  const home = env.HOME;
  if (home !== undefined && home !== "") return { path: join(home, ".docker", "config.json"), explicit: false };
  return undefined;
}

/**
 * Reads the config synchronously, at start-up, so a malformed file stops the run before any
 * request. A missing or unreadable file found by the default search means no credentials; one
 * named by `--registry-config` must be readable.
 */
export function loadDockerConfig(env: Env, explicitFile?: string): DockerConfig {
  const where = dockerConfigLocation(env, explicitFile);
  if (where === undefined) return emptyDockerConfig;
  let text: string;
  try {
    text = readFileSync(where.path, "utf8");
  } catch (err) {
    if (where.explicit) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CredentialError(`registry config ${where.path}: cannot read it (${code ?? messageOf(err)})`, true);
    }
    return emptyDockerConfig;
  }
  return parseDockerConfig(text, where.path);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Where JSON.parse stopped, without quoting the text (it may hold secrets). */
function jsonErrorPlace(text: string, err: unknown): string {
  const m = /position (\d+)/.exec(messageOf(err));
  if (!m) return "";
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const column = pos - before.lastIndexOf("\n");
  return ` at line ${line}, column ${column}`;
}

const helperName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function parseEntry(file: string, key: string, raw: unknown): InlineCredential | undefined {
  const where = `${file}: auths[${JSON.stringify(key)}]`;
  if (raw === null) return undefined;
  if (!isRecord(raw)) throw new CredentialError(`${where} is not an object`, true);
  const field = (name: string): string | undefined => {
    const v = raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw new CredentialError(`${where}.${name} is not a string`, true);
    return v === "" ? undefined : v;
  };
  const identityToken = field("identitytoken");
  const auth = field("auth");
  const username = field("username");
  const password = field("password");
  // docker's order: an identity token is used when present; `auth` overrides username/password.
  if (identityToken !== undefined) return { username: identityTokenUsername, password: identityToken, identityToken, key };
  if (auth !== undefined) {
    const b64 = auth.trim();
    const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(b64) && b64.length % 4 === 0 ? Buffer.from(b64, "base64").toString("utf8") : "";
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw new CredentialError(`${where}.auth is not base64 of "username:password"`, true);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, ""), key };
  }
  if (username !== undefined || password !== undefined) {
    if (username === undefined) throw new CredentialError(`${where} has a password but no username`, true);
    if (password === undefined) throw new CredentialError(`${where} has a username but no password`, true);
    return { username, password, key };
  }
  return undefined;
}

/** Parses config.json text; every mistake is one line naming the file and the field. */
export function parseDockerConfig(text: string, file: string): DockerConfig {
  // docker accepts an empty file.
  if (text.trim() === "") return { ...emptyDockerConfig, file };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CredentialError(`registry config ${file}: not valid JSON${jsonErrorPlace(text, err)}`, true);
  }
  if (!isRecord(doc)) throw new CredentialError(`registry config ${file}: not a JSON object`, true);

  const auths = new Map<string, InlineCredential>();
  if (doc.auths !== undefined && doc.auths !== null) {
    if (!isRecord(doc.auths)) throw new CredentialError(`${file}: auths is not an object`, true);
    for (const [key, raw] of Object.entries(doc.auths)) {
      const cred = parseEntry(file, key, raw);
      if (cred === undefined) continue;
      const host = normalizeHost(key);
      const prior = auths.get(host);
      // Several keys for one host (`host` and `https://host`): the bare host wins, else the first.
      if (prior === undefined || (key.trim().toLowerCase() === host && prior.key.trim().toLowerCase() !== host)) auths.set(host, cred);
    }
  }

  const credHelpers = new Map<string, string>();
  if (doc.credHelpers !== undefined && doc.credHelpers !== null) {
    if (!isRecord(doc.credHelpers)) throw new CredentialError(`${file}: credHelpers is not an object`, true);
    for (const [key, name] of Object.entries(doc.credHelpers)) {
      if (typeof name !== "string" || !helperName.test(name)) {
        throw new CredentialError(`${file}: credHelpers[${JSON.stringify(key)}] is not a helper name (docker-credential-<name>)`, true);
      }
      credHelpers.set(normalizeHost(key), name);
    }
  }

  let credsStore: string | undefined;
  if (doc.credsStore !== undefined && doc.credsStore !== null && doc.credsStore !== "") {
    if (typeof doc.credsStore !== "string" || !helperName.test(doc.credsStore)) {
      throw new CredentialError(`${file}: credsStore is not a helper name (docker-credential-<name>)`, true);
    }
    credsStore = doc.credsStore;
  }
  return { file, auths, credHelpers, credsStore };
}
