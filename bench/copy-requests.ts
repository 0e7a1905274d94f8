// Requests for one cross-host copy of a cosign `.sig` (config + one signature layer), sigmirror's
// registry client side by side with `skopeo copy --preserve-digests` of the same tag, both through
// the same counting proxies (the fault proxy with no faults) in front of real registries, per
// auth flavour, each tool starting cold (no token or challenge known).
// Reproduce: node_modules/.bin/bun bench/copy-requests.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryClient } from "../src/registry/client.ts";
import type { Credential } from "../src/registry/credentials/index.ts";
import { userAgent } from "../src/version.ts";
import {
  pushImage,
  pushSignature,
  readManifest,
  sigTag,
  startFaultProxy,
  startRegistry,
  stopAllRegistries,
  type FaultProxy,
  type TestRegistry,
} from "../test/harness/index.ts";
import { cleanEnv } from "../test/lib/cli.ts";

type Flavour = "anonymous" | "htpasswd" | "token";

interface Count {
  readonly source: number;
  readonly target: number;
  readonly tokens: number;
}

function tokenRequests(reg: TestRegistry): number {
  return reg.tokenServer?.requests().length ?? 0;
}

async function measure(run: () => Promise<void>, src: TestRegistry, dst: TestRegistry, sp: FaultProxy, dp: FaultProxy): Promise<Count> {
  sp.clear();
  dp.clear();
  src.tokenServer?.clearRequests();
  dst.tokenServer?.clearRequests();
  await run();
  return { source: sp.records().length, target: dp.records().length, tokens: tokenRequests(src) + tokenRequests(dst) };
}

function creds(reg: TestRegistry): string[] {
  return reg.credentials ? [`${reg.credentials.username}:${reg.credentials.password}`] : [];
}

async function benchFlavour(flavour: Flavour): Promise<{ flavour: Flavour; ours: Count; skopeo: Count; command: string }> {
  const [src, dst] = await Promise.all([startRegistry({ auth: flavour }), startRegistry({ auth: flavour })]);
  const [sp, dp] = await Promise.all([startFaultProxy({ upstream: src.url }), startFaultProxy({ upstream: dst.url })]);
  try {
    const img = await pushImage(src, "bench/app");
    const sig = await pushSignature(src, "bench/app", img.digest);
    const tag = sigTag(img.digest);

    const byHost = new Map<string, Credential>();
    for (const [p, r] of [[sp, src], [dp, dst]] as const) if (r.credentials) byHost.set(p.host, { ...r.credentials });
    const client = new RegistryClient({
      userAgent,
      rateDefault: 1000,
      rates: new Map(),
      concurrencyDefault: 8,
      concurrency: new Map(),
      caFiles: new Map(),
      insecure: new Set(),
      credentials: { forHost: async (host) => byHost.get(host) },
    });
    const ours = await measure(
      async () => {
        const r = await client.copy({ host: sp.host, repository: "bench/app" }, { host: dp.host, repository: "ours/app" }, tag, sig.digest);
        if (r.digest !== sig.digest) throw new Error("sigmirror copied another digest");
      },
      src,
      dst,
      sp,
      dp,
    );
    client.close();

    const srcCreds = creds(src);
    const dstCreds = creds(dst);
    const argv = [
      "skopeo", "copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
      ...(srcCreds[0] ? ["--src-creds", srcCreds[0]] : []),
      ...(dstCreds[0] ? ["--dest-creds", dstCreds[0]] : []),
      `docker://${sp.host}/bench/app:${tag}`,
      `docker://${dp.host}/skopeo/app:${tag}`,
    ];
    const home = mkdtempSync(join(tmpdir(), "sigmirror-bench-skopeo-"));
    const skopeo = await measure(
      async () => {
        const proc = Bun.spawn(argv, { env: cleanEnv({ HOME: home }), stdout: "pipe", stderr: "pipe" });
        const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
        if (code !== 0) throw new Error(`skopeo exited ${code}: ${err.trim()}`);
      },
      src,
      dst,
      sp,
      dp,
    );
    rmSync(home, { recursive: true, force: true });
    for (const repo of ["ours/app", "skopeo/app"]) {
      if ((await readManifest(dst, repo, tag))?.digest !== sig.digest) throw new Error(`${repo}: not the source digest at the target`);
    }
    const shown = argv.map((a) => (srcCreds.includes(a) || dstCreds.includes(a) ? "USER:PASS" : a)).join(" ");
    return { flavour, ours, skopeo, command: shown.replace(sp.host, "SRC").replace(dp.host, "DST") };
  } finally {
    await Promise.all([sp.stop(), dp.stop()]);
    await Promise.all([src.stop(), dst.stop()]);
  }
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
try {
  console.log("copy-requests: one cross-host copy of a .sig (config + 1 layer), cold, counted at the proxies in front of each registry");
  console.log(`copy-requests: ${"auth".padEnd(10)} ${"tool".padEnd(9)} ${pad("source", 6)} ${pad("target", 6)} ${pad("token", 5)} ${pad("total", 5)}`);
  for (const flavour of ["anonymous", "htpasswd", "token"] as const) {
    const r = await benchFlavour(flavour);
    for (const [tool, c] of [["sigmirror", r.ours], ["skopeo", r.skopeo]] as const) {
      console.log(`copy-requests: ${flavour.padEnd(10)} ${tool.padEnd(9)} ${pad(c.source, 6)} ${pad(c.target, 6)} ${pad(c.tokens, 5)} ${pad(c.source + c.target + c.tokens, 5)}`);
    }
    console.log(`copy-requests: ${flavour.padEnd(10)} target ratio sigmirror/skopeo ${(r.ours.target / r.skopeo.target).toFixed(2)}; skopeo ran: ${r.command}`);
  }
  console.log("copy-requests: reproduce with: node_modules/.bin/bun bench/copy-requests.ts");
} finally {
  await stopAllRegistries();
}
