// Real CNCF distribution 2.8 registries (Debian docker-registry) on random loopback addresses,
// each with its own temporary storage (deletion enabled), in three auth flavours, optionally TLS.
import { randomBytes, randomUUID } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "./no-proxy.ts";
import { cleanEnv } from "../lib/cli.ts";
import { countByMethod, parseAccessLog, type AccessEntry } from "./access-log.ts";
export type { AccessEntry };
import type { TestCA } from "./ca.ts";
import { onProcessExit } from "./cleanup.ts";
import { allocateLoopback, hostOf, type LoopbackAddress } from "./net.ts";
import { sharedTestCA } from "./shared-ca.ts";
import { startTokenServer, type TokenServer, type TokenServerOptions, type User } from "./token-server.ts";
import { runTool } from "./tool.ts";

export type AuthFlavour = "anonymous" | "htpasswd" | "token";

export interface StartOptions {
  auth?: AuthFlavour;
  tls?: boolean;
  /** Users for htpasswd/token (default: one user "sigmirror" with a random password). */
  users?: User[];
  /** CA for the TLS certificate (default: the process-wide shared test CA). */
  ca?: TestCA;
  /** token flavour: use this (shared, not stopped with the registry) instead of starting one. */
  tokenServer?: TokenServer;
  /** token flavour: options for the token server the registry starts for itself. */
  token?: Omit<TokenServerOptions, "users">;
  /** Merged (deeply) over the generated config, e.g. { http: { draintimeout: "1s" } }. */
  extraConfig?: Record<string, unknown>;
}

export interface TestRegistry {
  /** "127.x.y.z:port", as written in image references and manifests. */
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  /** "http://host" or "https://host". */
  readonly url: string;
  readonly auth: AuthFlavour;
  readonly tls: boolean;
  /** PEM file of the CA that issued the registry's certificate (when tls). */
  readonly caFile?: string;
  /** Contents of caFile, ready for fetch's `tls: { ca }` (when tls). */
  readonly caPem?: string;
  /** First user (htpasswd/token). */
  readonly credentials?: User;
  readonly users: readonly User[];
  readonly tokenServer?: TokenServer;
  /** Temporary directory: config.yml, storage/, access.log, registry.log. Removed by stop(). */
  readonly dir: string;
  readonly pid: number;
  /** Every request the registry completed since start (or clearLog), in completion order. */
  accessLog(): Promise<AccessEntry[]>;
  /** accessLog() counted by method, e.g. {GET: 3, HEAD: 5}. */
  requestCounts(): Promise<Record<string, number>>;
  /** Forget entries so far: later accessLog() calls count from here. */
  clearLog(): Promise<void>;
  /** Last lines of the registry's own (stderr) log, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM, wait, SIGKILL after 3 s, stop an owned token server, remove the directory. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const registryBinary = "/usr/bin/docker-registry";
/** Harness-internal requests (readiness, log flush) carry this user agent and are left out of accessLog(). */
const internalAgent = "sigmirror-harness-internal";
const live = new Set<TestRegistry>();

/** Stops every registry still running (for afterAll; the process-exit hook does it too). */
export async function stopAllRegistries(): Promise<void> {
  await Promise.all([...live].map((r) => r.stop()));
}

export function liveRegistries(): TestRegistry[] {
  return [...live];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last lines of a log file, for an error that says why a server did not start. */
export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

async function htpasswdFile(path: string, users: readonly User[]): Promise<void> {
  let text = "";
  for (const u of users) text += (await runTool(["htpasswd", "-Bbn", u.username, u.password])).trim() + "\n";
  writeFileSync(path, text, { mode: 0o600 });
}

interface Layout {
  readonly dir: string;
  readonly extra?: Record<string, unknown>;
  readonly auth: AuthFlavour;
  readonly tls?: { certFile: string; keyFile: string };
  readonly tokenServer?: TokenServer;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function configFor(addr: LoopbackAddress, layout: Layout): string {
  const http: Record<string, unknown> = {
    addr: hostOf(addr),
    secret: "sigmirror-test-harness-secret",
    headers: { "X-Content-Type-Options": ["nosniff"] },
  };
  if (layout.tls) http["tls"] = { certificate: layout.tls.certFile, key: layout.tls.keyFile };
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: "info", formatter: "json", accesslog: { disabled: false } },
    storage: {
      filesystem: { rootdirectory: join(layout.dir, "storage") },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http,
  };
  if (layout.auth === "htpasswd") {
    config["auth"] = { htpasswd: { realm: "sigmirror-test", path: join(layout.dir, "htpasswd") } };
  } else if (layout.auth === "token" && layout.tokenServer) {
    const t = layout.tokenServer;
    config["auth"] = {
      token: { realm: t.realm, service: t.service, issuer: t.issuer, rootcertbundle: t.certFile },
    };
  }
  // JSON is YAML: no serializer needed.
  return JSON.stringify(layout.extra ? deepMerge(config, layout.extra) : config, null, 2);
}

type Spawned = ReturnType<typeof spawnRegistry>;

function spawnRegistry(configFile: string, accessFile: string, stderrFile: string) {
  const out = openSync(accessFile, "a");
  const err = openSync(stderrFile, "a");
  try {
    // setpriv execs the registry (same PID) with a parent-death signal: a killed test runner
    // takes its registries with it.
    return Bun.spawn(["setpriv", "--pdeathsig", "SIGKILL", "--", registryBinary, "serve", configFile], {
      env: cleanEnv(),
      stdin: "ignore",
      stdout: out,
      stderr: err,
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/**
 * Polls `GET /v2/` until a test server (`name`: docker-registry, olareg) answers; "address-in-use"
 * when it died of a port race (its log says so: olareg even exits 0 then), an error naming it otherwise.
 */
export async function waitReady(
  proc: { readonly exitCode: number | null; readonly signalCode: NodeJS.Signals | number | null },
  url: string,
  caPem: string | undefined,
  stderrFile: string,
  name = "docker-registry",
): Promise<"ready" | "address-in-use"> {
  const deadline = Date.now() + 10_000;
  let lastError = "";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      const log = tail(stderrFile, 20);
      if (/address already in use/i.test(log)) return "address-in-use";
      throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before ready:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/v2/`, {
        headers: { "User-Agent": internalAgent },
        keepalive: false,
        signal: AbortSignal.timeout(1000),
        ...(caPem ? { tls: { ca: caPem } } : {}),
      });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return "ready";
      lastError = `GET /v2/ answered ${res.status}`;
    } catch (err) {
      lastError = String(err);
    }
    await sleep(20);
  }
  throw new Error(`${name} not ready at ${url} within 10 s (${lastError}):\n${tail(stderrFile, 20)}`);
}

export async function startRegistry(options: StartOptions = {}): Promise<TestRegistry> {
  const auth = options.auth ?? "anonymous";
  const useTls = options.tls ?? false;
  const users: User[] =
    options.users && options.users.length > 0
      ? options.users.map((u) => ({ ...u }))
      : [{ username: "sigmirror", password: randomBytes(12).toString("hex") }];
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-registry-"));
  const removeDirAtExit = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  let ownedTokenServer: TokenServer | undefined;
  let proc: Spawned | undefined;
  const failCleanup = async (): Promise<void> => {
    if (proc && proc.exitCode === null) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    await ownedTokenServer?.stop();
    rmSync(dir, { recursive: true, force: true });
    removeDirAtExit();
  };
  try {
    let tokenServer: TokenServer | undefined;
    if (auth === "token") {
      tokenServer = options.tokenServer;
      if (!tokenServer) {
        ownedTokenServer = await startTokenServer({ ...options.token, users });
        tokenServer = ownedTokenServer;
      }
    }
    if (auth === "htpasswd") await htpasswdFile(join(dir, "htpasswd"), users);
    const ca = useTls ? (options.ca ?? (await sharedTestCA())) : undefined;
    const caPem = ca ? readFileSync(ca.caFile, "utf8") : undefined;
    const configFile = join(dir, "config.yml");
    const accessFile = join(dir, "access.log");
    const stderrFile = join(dir, "registry.log");

    for (let attempt = 1; ; attempt++) {
      const addr = await allocateLoopback();
      const tlsFiles = ca ? await ca.issue(addr.ip) : undefined;
      writeFileSync(configFile, configFor(addr, { dir, auth, ...(options.extraConfig ? { extra: options.extraConfig } : {}), ...(tlsFiles ? { tls: tlsFiles } : {}), ...(tokenServer ? { tokenServer } : {}) }));
      writeFileSync(accessFile, "");
      writeFileSync(stderrFile, "");
      const started = spawnRegistry(configFile, accessFile, stderrFile);
      proc = started;
      const killAtExit = onProcessExit(() => {
        if (started.exitCode === null) process.kill(started.pid, "SIGKILL");
      });
      const url = `${ca ? "https" : "http"}://${hostOf(addr)}`;
      const outcome = await waitReady(started, url, caPem, stderrFile);
      if (outcome === "address-in-use") {
        killAtExit();
        if (attempt < 3) continue;
        throw new Error(`docker-registry: address in use on 3 random loopback addresses:\n${tail(stderrFile, 5)}`);
      }
      return makeHandle({
        addr, url, auth, dir, users, proc: started, accessFile, stderrFile,
        ...(ca ? { caFile: ca.caFile } : {}),
        ...(caPem ? { caPem } : {}),
        ...(tokenServer ? { tokenServer } : {}),
        ...(ownedTokenServer ? { ownedTokenServer } : {}),
        onStopped: () => {
          killAtExit();
          removeDirAtExit();
        },
      });
    }
  } catch (err) {
    await failCleanup();
    throw err;
  }
}

interface HandleParts {
  addr: LoopbackAddress;
  url: string;
  auth: AuthFlavour;
  dir: string;
  users: User[];
  proc: Spawned;
  accessFile: string;
  stderrFile: string;
  caFile?: string;
  caPem?: string;
  tokenServer?: TokenServer;
  ownedTokenServer?: TokenServer;
  onStopped: () => void;
}

function makeHandle(p: HandleParts): TestRegistry {
  let baseline = 0;
  let stopping: Promise<void> | undefined;
  const read = (): AccessEntry[] => {
    try {
      return parseAccessLog(readFileSync(p.accessFile, "utf8"));
    } catch {
      return [];
    }
  };

  /**
   * Waits until everything that completed before this call is in the log: sends one marked
   * request and waits for its own line (the log is written after each response, sometimes after
   * the client already has it). Returns the parsed log without harness-internal requests.
   */
  const flushed = async (): Promise<AccessEntry[]> => {
    const marker = `${internalAgent}/${randomUUID()}`;
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      try {
        const res = await fetch(`${p.url}/v2/`, {
          headers: { "User-Agent": marker },
          keepalive: false,
          signal: AbortSignal.timeout(5000),
          ...(p.caPem ? { tls: { ca: p.caPem } } : {}),
        });
        await res.arrayBuffer();
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline) {
          const entries = read();
          if (entries.some((e) => e.userAgent === marker)) return entries.filter((e) => !e.userAgent.startsWith(internalAgent));
          await sleep(5);
        }
      } catch {
        // registry gone or unreachable: return what the log holds
      }
    }
    return read().filter((e) => !e.userAgent.startsWith(internalAgent));
  };

  const handle: TestRegistry = {
    host: hostOf(p.addr),
    ip: p.addr.ip,
    port: p.addr.port,
    url: p.url,
    auth: p.auth,
    tls: p.caPem !== undefined,
    ...(p.caFile ? { caFile: p.caFile } : {}),
    ...(p.caPem ? { caPem: p.caPem } : {}),
    ...(p.auth !== "anonymous" && p.users[0] ? { credentials: p.users[0] } : {}),
    users: p.users,
    ...(p.tokenServer ? { tokenServer: p.tokenServer } : {}),
    dir: p.dir,
    pid: p.proc.pid,
    async accessLog(): Promise<AccessEntry[]> {
      return (await flushed()).slice(baseline);
    },
    async requestCounts(): Promise<Record<string, number>> {
      return countByMethod(await handle.accessLog());
    },
    async clearLog(): Promise<void> {
      baseline = (await flushed()).length;
    },
    logTail: (lines = 20) => tail(p.stderrFile, lines),
    stop(): Promise<void> {
      stopping ??= (async () => {
        live.delete(handle);
        if (p.proc.exitCode === null && p.proc.signalCode === null) {
          p.proc.kill("SIGTERM");
          const exited = await Promise.race([p.proc.exited.then(() => true), sleep(3000).then(() => false)]);
          if (!exited) {
            p.proc.kill("SIGKILL");
            await p.proc.exited;
          }
        }
        await p.ownedTokenServer?.stop();
        rmSync(p.dir, { recursive: true, force: true });
        p.onStopped();
      })();
      return stopping;
    },
    [Symbol.asyncDispose]: () => handle.stop(),
  };
  live.add(handle);
  return handle;
}

