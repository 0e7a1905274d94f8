// olareg (regclient's test registry, in memory) on a random loopback address: a real registry
// that answers the OCI 1.1 referrers API, which Debian's distribution 2.8 does not. olareg logs
// no access lines, so it is fronted by the fault proxy, whose records are the request count:
// `host` is the proxy's, so every request a tool makes goes through it and is counted.
import { mkdtempSync, openSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "./no-proxy.ts";
import { cleanEnv } from "../lib/cli.ts";
import type { AccessEntry } from "./access-log.ts";
import { countByMethod } from "./access-log.ts";
import { onProcessExit } from "./cleanup.ts";
import { startFaultProxy, type FaultProxy } from "./fault-proxy.ts";
import { goTool } from "./go-tools.ts";
import { allocateLoopback, hostOf, type LoopbackAddress } from "./net.ts";
import { sleep, tail, waitReady, type TestRegistry } from "./registry.ts";

export interface OlaregRegistry extends TestRegistry {
  /** "127.x.y.z:port" of olareg itself (not counted: for a test that must bypass the proxy). */
  readonly upstreamHost: string;
  readonly proxy: FaultProxy;
  /** Requests through the proxy since start or the last clearLog(). */
  requests(): number;
}

type Spawned = ReturnType<typeof Bun.spawn>;


function spawnOlareg(addr: LoopbackAddress, logFile: string): Spawned {
  const log = openSync(logFile, "a");
  try {
    // setpriv execs olareg (same PID) with a parent-death signal: a killed test runner takes it along.
    // --addr binds the loopback IP only; mem storage: nothing on disk to clean.
    return Bun.spawn(
      ["setpriv", "--pdeathsig", "SIGKILL", "--", goTool("olareg"), "serve", "--store-type", "mem", "--addr", addr.ip, "--port", String(addr.port)],
      { env: cleanEnv(), stdin: "ignore", stdout: log, stderr: log },
    );
  } finally {
    closeSync(log);
  }
}

async function stopProcess(proc: Spawned): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const exited = await Promise.race([proc.exited.then(() => true), sleep(3000).then(() => false)]);
  if (!exited) {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

export async function startOlareg(): Promise<OlaregRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-olareg-"));
  const removeDirAtExit = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, "olareg.log");
  let proc: Spawned | undefined;
  let killAtExit = (): void => {};
  try {
    for (let attempt = 1; ; attempt++) {
      const addr = await allocateLoopback();
      const started = spawnOlareg(addr, logFile);
      proc = started;
      killAtExit = onProcessExit(() => {
        if (started.exitCode === null) process.kill(started.pid, "SIGKILL");
      });
      // olareg exits 0 (!) when its port is taken: its log, not its exit code, tells a port race.
      if ((await waitReady(started, `http://${hostOf(addr)}`, undefined, logFile, "olareg")) === "address-in-use") {
        killAtExit();
        if (attempt < 3) continue;
        throw new Error(`olareg: address in use on 3 random loopback addresses:\n${tail(logFile, 5)}`);
      }
      const proxy = await startFaultProxy({ upstream: `http://${hostOf(addr)}` });
      return makeHandle(addr, dir, logFile, started, proxy, () => {
        killAtExit();
        removeDirAtExit();
      });
    }
  } catch (err) {
    if (proc) await stopProcess(proc);
    killAtExit();
    rmSync(dir, { recursive: true, force: true });
    removeDirAtExit();
    throw err;
  }
}

function makeHandle(addr: LoopbackAddress, dir: string, logFile: string, proc: Spawned, proxy: FaultProxy, onStopped: () => void): OlaregRegistry {
  let stopping: Promise<void> | undefined;
  // The proxy knows neither the response size nor the user agent: those fields stay empty.
  const entries = (): AccessEntry[] =>
    proxy.records().map((r) => ({
      method: r.method,
      path: r.path,
      status: typeof r.status === "number" ? r.status : 0,
      time: Math.floor(r.respondedAt ?? r.arrivedAt),
      bytes: 0,
      userAgent: "",
    }));
  const handle: OlaregRegistry = {
    host: proxy.host,
    ip: proxy.host.slice(0, proxy.host.lastIndexOf(":")),
    port: Number(proxy.host.slice(proxy.host.lastIndexOf(":") + 1)),
    url: proxy.url,
    auth: "anonymous",
    tls: false,
    users: [],
    dir,
    pid: proc.pid,
    upstreamHost: hostOf(addr),
    proxy,
    requests: () => proxy.records().length,
    accessLog: async () => entries(),
    requestCounts: async () => countByMethod(entries()),
    clearLog: async () => proxy.clear(),
    logTail: (lines = 20) => tail(logFile, lines),
    stop(): Promise<void> {
      stopping ??= (async () => {
        await proxy.stop();
        await stopProcess(proc);
        rmSync(dir, { recursive: true, force: true });
        onStopped();
      })();
      return stopping;
    },
    [Symbol.asyncDispose]: () => handle.stop(),
  };
  return handle;
}
