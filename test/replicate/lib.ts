// Helpers of the replicate end-to-end tests: a CLI child that runs in the background (to signal or
// kill it mid-run), the ledger's claims checked against the registries, reports read back.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { Ledger } from "../../src/ledger/ledger.ts";
import { pushImage, pushIndex, pushSignature, readManifest, sigTag, type Pushed, type TestRegistry } from "../harness/index.ts";
import { cleanEnv, repoRoot, type CliResult } from "../lib/cli.ts";
import { PROJECT_PATH, writeThinManifests, type Scenario, type ScenarioImage } from "../lib/scenario.ts";

const mainTs = resolve(repoRoot, "src/main.ts");

export interface Running {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** stderr so far. */
  err(): string;
  /** Resolves once stderr matches (counting matches when `times` > 1); rejects when the child ends first. */
  waitForErr(pattern: RegExp, times?: number, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
  /** Kills the child if it still runs (for finally blocks). */
  kill(): void;
}

async function drain(stream: ReadableStream<Uint8Array>, onText: (t: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
}

const count = (text: string, pattern: RegExp): number => (text.match(new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`)) ?? []).length;

/** sigmirror from source in the background, as a periodic job would run it. */
export function startSigmirror(args: readonly string[], options: { env?: Record<string, string> } = {}): Running {
  const proc = Bun.spawn([process.execPath, mainTs, ...args], {
    cwd: repoRoot,
    env: cleanEnv(options.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const outDone = drain(proc.stdout, (t) => (out += t));
  const errDone = drain(proc.stderr, (t) => {
    err += t;
    wake();
  });
  let ended = false;
  const done = (async () => {
    const code = await proc.exited;
    await Promise.all([outDone, errDone]);
    ended = true;
    wake();
    return { code, out, err };
  })();
  return {
    proc,
    err: () => err,
    done,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    },
    waitForErr(pattern, times = 1, timeoutMs = 60_000) {
      return new Promise<void>((resolveWait, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern} x${times} in stderr:\n${err.slice(-2000)}`)), timeoutMs);
        const check = () => {
          if (count(err, pattern) >= times) finish();
          else if (ended) finish(new Error(`sigmirror ended (${proc.exitCode}) before ${pattern} x${times}:\n${err.slice(-2000)}`));
        };
        function finish(e?: Error) {
          clearTimeout(timer);
          waiters.delete(check);
          if (e === undefined) resolveWait();
          else reject(e);
        }
        waiters.add(check);
        check();
      });
    },
  };
}

export async function tagDigest(reg: TestRegistry, repo: string, tag: string): Promise<string | undefined> {
  return (await readManifest(reg, repo, tag))?.digest;
}

/** Every (subject, tag) the scenario signed: images and index children. */
export function signedSubjects(images: readonly ScenarioImage[]): { repository: string; digest: string }[] {
  const out: { repository: string; digest: string }[] = [];
  for (const img of images) {
    if (img.signature === undefined) continue;
    out.push({ repository: img.repository, digest: img.image.digest });
    for (const c of img.children) out.push({ repository: img.repository, digest: c.digest });
  }
  return out;
}

/** Mismatches between the primary's `.sig` tags and each given mirror's, as "host repo:tag want got" lines. */
export async function replicationGaps(s: Pick<Scenario, "primary" | "images">, mirrors: readonly TestRegistry[]): Promise<string[]> {
  const gaps: string[] = [];
  for (const { repository, digest } of signedSubjects(s.images)) {
    const tag = sigTag(digest);
    const want = await tagDigest(s.primary, repository, tag);
    for (const m of mirrors) {
      const got = await tagDigest(m, repository, tag);
      if (got !== want) gaps.push(`${m.host} ${repository}:${tag} want ${want} got ${got}`);
    }
  }
  return gaps;
}

export interface LedgerClaim {
  readonly mirror: string;
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
}

/** Every pair the ledger claims (opened read-only, as `ledger stats` would). */
export function ledgerClaims(path: string): LedgerClaim[] {
  const ledger = Ledger.openReadOnly(path);
  try {
    const out: LedgerClaim[] = [];
    for (const [key, subject] of ledger.entries()) {
      for (const p of ledger.pairsOf(subject)) {
        out.push({ mirror: p.mirror, repository: key.repository, tag: sigTag(key.digest, p.suffix), digest: p.digest });
      }
    }
    return out;
  } finally {
    ledger.close();
  }
}

/** Claims the registries contradict: the mirror does not hold that digest under that tag. */
export async function falseClaims(path: string, registries: readonly TestRegistry[]): Promise<string[]> {
  const byHost = new Map(registries.map((r) => [r.host, r]));
  const wrong: string[] = [];
  for (const c of ledgerClaims(path)) {
    const reg = byHost.get(c.mirror);
    const got = reg === undefined ? "unknown host" : await tagDigest(reg, c.repository, c.tag);
    if (got !== c.digest) wrong.push(`${c.mirror}/${c.repository}:${c.tag}: ledger ${c.digest}, registry ${got}`);
  }
  return wrong;
}

export interface HostReport {
  readonly host: string;
  readonly role: string;
  readonly requests: number;
  readonly byMethod: Record<string, number>;
  readonly copied: number;
  readonly replaced: number;
  readonly alreadyThere: number;
  readonly failed: number;
  readonly conflicts: number;
  readonly notReached: number;
  readonly givenUp?: string;
  readonly status429: number;
  readonly retries: number;
}

export interface ReportProblem {
  readonly host: string;
  readonly repository: string;
  readonly tag: string;
  readonly digest?: string;
  readonly reason: string;
}

export interface ReportJson {
  readonly verb: string;
  readonly dryRun: boolean;
  readonly groups: number;
  readonly unsigned: number;
  readonly pairsChecked: number;
  readonly copied: number;
  readonly replaced: number;
  readonly alreadyThere: number;
  readonly conflicts: number;
  readonly failed: number;
  readonly notReached: number;
  readonly stoppedBy?: string;
  readonly repositories: number;
  readonly repositoriesLeft: number;
  readonly fatal?: string;
  readonly wallMs: number;
  readonly interrupted?: string;
  readonly hosts: HostReport[];
  readonly failures: ReportProblem[];
  readonly conflictList: ReportProblem[];
  readonly replacedList: { host: string; repository: string; tag: string; from: string; to: string }[];
  readonly drift: ReportProblem[];
  readonly exitCode: number;
}

export function readReport(path: string): ReportJson {
  return JSON.parse(readFileSync(path, "utf8")) as ReportJson;
}

export function hostOf(r: ReportJson, host: string): HostReport {
  const h = r.hosts.find((x) => x.host === host);
  if (h === undefined) throw new Error(`report has no host ${host}: ${r.hosts.map((x) => x.host).join(", ")}`);
  return h;
}

/** Total requests in the access logs since the last clear, over the given registries. */
export async function totalRequests(regs: readonly TestRegistry[]): Promise<number> {
  let n = 0;
  for (const r of regs) n += Object.values(await r.requestCounts()).reduce((a, b) => a + b, 0);
  return n;
}

/**
 * Like startScenario, on registries the caller started (any auth, TLS): each image pushed to
 * every registry, signatures on the primary only, thin manifests naming them all in dir/manifests.
 */
export async function promote(
  dir: string,
  primary: TestRegistry,
  mirrors: readonly TestRegistry[],
  o: { signed: number; unsigned: number; indexes: number },
): Promise<{ images: ScenarioImage[]; thinDir: string }> {
  const all = [primary, ...mirrors];
  const onAll = async (fn: (r: TestRegistry) => Promise<Pushed>): Promise<Pushed> => {
    let last: Pushed | undefined;
    for (const r of all) last = await fn(r);
    if (last === undefined) throw new Error("no registries");
    return last;
  };
  const images: ScenarioImage[] = [];
  const add = async (name: string, signed: boolean, index: boolean) => {
    const repository = `${PROJECT_PATH}/${name}`;
    const children: Pushed[] = [];
    if (index) for (const arch of ["amd64", "arm64"]) children.push(await onAll((r) => pushImage(r, repository, { seed: `${name}-${arch}` })));
    const image = index
      ? await onAll((r) => pushIndex(r, repository, children, { tag: "v1" }))
      : await onAll((r) => pushImage(r, repository, { seed: name, tag: "v1" }));
    const entry: ScenarioImage = { name, repository, image, children, signature: undefined, childSignatures: [] };
    if (signed) {
      entry.signature = await pushSignature(primary, repository, image.digest);
      for (const c of children) entry.childSignatures.push(await pushSignature(primary, repository, c.digest));
    }
    images.push(entry);
  };
  for (let i = 0; i < o.signed; i++) await add(`signed-${i}`, true, false);
  for (let i = 0; i < o.unsigned; i++) await add(`unsigned-${i}`, false, false);
  for (let i = 0; i < o.indexes; i++) await add(`multiarch-${i}`, true, true);
  const thinDir = join(dir, "manifests");
  writeThinManifests(
    thinDir,
    all.map((r) => r.host),
    images.map((i) => ({ name: i.name, digest: i.image.digest, tag: "v1" })),
  );
  return { images, thinDir };
}
