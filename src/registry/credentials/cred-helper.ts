// Docker credential helpers: `docker-credential-<name> get`, the server URL on stdin,
// `{"ServerURL","Username","Secret"}` on stdout (docker/docker-credential-helpers protocol).
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { identityTokenUsername } from "./docker-config.ts";
import { CredentialError, messageOf, oneLine, scrub } from "./error.ts";
import { normalizeHost } from "./hosts.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface HelperCredential {
  readonly username: string;
  readonly password: string;
  /** Set when the helper returned an identity token (Username `<token>`). */
  readonly identityToken?: string;
}

export interface HelperOptions {
  readonly env: Env;
  readonly timeoutMs: number;
}

const maxOutputBytes = 1 << 20;

/** The helper's executable on the env's PATH (resolved here so every runtime looks in the same place). */
export function findOnPath(program: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function childEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function durationText(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function killGroup(pid: number | undefined, fallback: () => void): void {
  try {
    if (pid === undefined) throw new Error("no pid");
    process.kill(-pid, "SIGKILL");
  } catch {
    fallback();
  }
}

interface Finished {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runGet(executable: string, serverUrl: string, options: HelperOptions, what: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also ends what the helper started (they hold our pipes).
    const child = spawn(executable, ["get"], { env: childEnv(options.env), stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      killGroup(child.pid, () => child.kill("SIGKILL"));
      reject(new CredentialError(`${what}: no answer within ${durationText(options.timeoutMs)} (killed)`, false));
    }, options.timeoutMs);
    child.stdout.on("data", (b: Buffer) => {
      outBytes += b.length;
      if (outBytes <= maxOutputBytes) out.push(b);
    });
    child.stderr.on("data", (b: Buffer) => {
      errBytes += b.length;
      if (errBytes <= 65_536) err.push(b);
    });
    // A helper that exits without reading stdin makes our write fail with EPIPE: its exit status tells the story.
    child.stdin.on("error", () => {});
    child.on("error", (e) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(new CredentialError(`${what}: cannot run ${executable} (${oneLine(messageOf(e))})`, false));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      if (outBytes > maxOutputBytes) {
        reject(new CredentialError(`${what}: more than ${maxOutputBytes} bytes on stdout`, false));
        return;
      }
      resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin.end(serverUrl);
  });
}

/** A failing helper's own words, minus anything that looks like it could carry the credential. */
function helperMessage(f: Finished): string {
  const text = f.stdout.trim() !== "" ? f.stdout : f.stderr;
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const first = lines[0];
  if (first === undefined) return "";
  if (/secret|password|token/i.test(first)) return ": (output withheld)";
  return `: ${oneLine(first, 160)}`;
}

/**
 * Asks helper `name` for the credentials of `serverUrl`. Resolves undefined when the helper has
 * none ("credentials not found"); throws a one-line CredentialError when it fails, is missing,
 * times out, or answers for another server. The secret never reaches a message.
 */
export async function getFromHelper(name: string, serverUrl: string, options: HelperOptions, origin: string): Promise<HelperCredential | undefined> {
  const program = `docker-credential-${name}`;
  const what = `${program} get for ${serverUrl} (${origin})`;
  const executable = findOnPath(program, options.env);
  if (executable === undefined) throw new CredentialError(`${what}: ${program} not found on PATH`, false);
  const f = await runGet(executable, serverUrl, options, what);
  if (f.code !== 0) {
    const said = `${f.stdout}\n${f.stderr}`;
    if (/credentials not found/i.test(said)) return undefined;
    const status = f.code === null ? `killed by ${f.signal ?? "a signal"}` : `exit ${f.code}`;
    throw new CredentialError(`${what}: failed (${status})${helperMessage(f)}`, false);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(f.stdout);
  } catch {
    throw new CredentialError(`${what}: stdout is not JSON`, false);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new CredentialError(`${what}: stdout is not a JSON object`, false);
  const rec = doc as Record<string, unknown>;
  const username = rec.Username ?? "";
  const secret = rec.Secret ?? "";
  const server = rec.ServerURL ?? "";
  if (typeof username !== "string" || typeof secret !== "string" || typeof server !== "string") {
    throw new CredentialError(`${what}: Username, Secret and ServerURL must be strings`, false);
  }
  if (server !== "" && normalizeHost(server) !== normalizeHost(serverUrl)) {
    // Credentials meant for another host are never sent to this one.
    throw new CredentialError(`${what}: answered for another server (${oneLine(scrub(server, [secret]), 100)})`, false);
  }
  if (username === "" && secret === "") return undefined;
  if (username === identityTokenUsername) return { username, password: secret, identityToken: secret };
  return { username, password: secret };
}
