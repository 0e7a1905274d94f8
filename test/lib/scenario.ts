// A small promotion on real registries: a primary, N mirrors, a thin manifest tree naming them,
// images promoted to every host, signatures on the primary only.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pushImage, pushIndex, pushSignature, startRegistry, writeDockerConfig, type AuthFlavour, type Pushed, type TestRegistry } from "../harness/index.ts";

export const PROJECT_PATH = "prod";

export interface ScenarioImage {
  readonly name: string;
  /** `prod/<name>`: the repository on every host. */
  readonly repository: string;
  readonly image: Pushed;
  readonly children: readonly Pushed[];
  signature: Pushed | undefined;
  childSignatures: Pushed[];
}

export interface Scenario {
  readonly primary: TestRegistry;
  readonly mirrors: readonly TestRegistry[];
  readonly dir: string;
  readonly thinDir: string;
  readonly ledger: string;
  readonly images: ScenarioImage[];
  /** `replicate` (or another verb) with the manifests, primary and ledger flags. */
  args(verb: "replicate" | "verify", ...extra: string[]): string[];
  /** Requests each registry received since the last clear, by host. */
  requests(): Promise<Record<string, number>>;
  clearLogs(): Promise<void>;
  stop(): Promise<void>;
}

export interface ScenarioOptions {
  readonly mirrors?: number;
  readonly signed?: number;
  readonly unsigned?: number;
  /** Signed multi-arch images (an index of 2 children, each child signed too). */
  readonly indexes?: number;
  /** Every registry's auth; credentials reach sigmirror through a Docker config.json (--registry-config). */
  readonly auth?: AuthFlavour;
}

async function onAll(regs: readonly TestRegistry[], fn: (r: TestRegistry) => Promise<Pushed>): Promise<Pushed> {
  let last: Pushed | undefined;
  for (const r of regs) last = await fn(r);
  if (last === undefined) throw new Error("no registries");
  return last;
}

export function writeThinManifests(thinDir: string, hosts: readonly string[], images: readonly { name: string; digest: string; tag: string }[]): void {
  mkdirSync(join(thinDir, "manifests", "demo"), { recursive: true });
  mkdirSync(join(thinDir, "images", "demo"), { recursive: true });
  const registries = [
    "registries:",
    "- name: staging.example.com/demo",
    "  src: true",
    ...hosts.map((h) => `- name: ${h}/${PROJECT_PATH}\n  service-account: promoter@example.iam.gserviceaccount.com`),
  ].join("\n");
  writeFileSync(join(thinDir, "manifests", "demo", "promoter-manifest.yaml"), `${registries}\n`);
  const byName = new Map<string, string[]>();
  for (const i of images) {
    const lines = byName.get(i.name) ?? [];
    lines.push(`    "${i.digest}": ["${i.tag}"]`);
    byName.set(i.name, lines);
  }
  const body = [...byName].map(([name, lines]) => `- name: ${name}\n  dmap:\n${lines.join("\n")}`).join("\n");
  writeFileSync(join(thinDir, "images", "demo", "images.yaml"), `${body}\n`);
}

export async function startScenario(o: ScenarioOptions = {}): Promise<Scenario> {
  const all: TestRegistry[] = [];
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-scenario-"));
  try {
    const auth = o.auth ?? "anonymous";
    const primary = await startRegistry({ auth });
    all.push(primary);
    const mirrors: TestRegistry[] = [];
    for (let i = 0; i < (o.mirrors ?? 2); i++) {
      const m = await startRegistry({ auth });
      mirrors.push(m);
      all.push(m);
    }
    const images: ScenarioImage[] = [];
    const add = async (name: string, signed: boolean, index: boolean) => {
      const repository = `${PROJECT_PATH}/${name}`;
      const children: Pushed[] = [];
      let image: Pushed;
      if (index) {
        for (const arch of ["amd64", "arm64"]) children.push(await onAll(all, (r) => pushImage(r, repository, { seed: `${name}-${arch}` })));
        image = await onAll(all, (r) => pushIndex(r, repository, children, { tag: "v1" }));
      } else {
        image = await onAll(all, (r) => pushImage(r, repository, { seed: name, tag: "v1" }));
      }
      const entry: ScenarioImage = { name, repository, image, children, signature: undefined, childSignatures: [] };
      if (signed) {
        entry.signature = await pushSignature(primary, repository, image.digest);
        for (const c of children) entry.childSignatures.push(await pushSignature(primary, repository, c.digest));
      }
      images.push(entry);
    };
    for (let i = 0; i < (o.signed ?? 3); i++) await add(`signed-${i}`, true, false);
    for (let i = 0; i < (o.unsigned ?? 1); i++) await add(`unsigned-${i}`, false, false);
    for (let i = 0; i < (o.indexes ?? 1); i++) await add(`multiarch-${i}`, true, true);
    const thinDir = join(dir, "manifests");
    writeThinManifests(
      thinDir,
      all.map((r) => r.host),
      images.map((i) => ({ name: i.name, digest: i.image.digest, tag: "v1" })),
    );
    const ledger = join(dir, "state.db");
    const credentials = auth === "anonymous" ? [] : ["--registry-config", writeDockerConfig(dir, all)];
    const s: Scenario = {
      primary,
      mirrors,
      dir,
      thinDir,
      ledger,
      images,
      args: (verb, ...extra) => [verb, "--thin-manifest-dir", thinDir, "--primary", primary.host, "--ledger", ledger, ...credentials, ...extra],
      async requests() {
        const out: Record<string, number> = {};
        for (const r of all) {
          const counts = await r.requestCounts();
          out[r.host] = Object.values(counts).reduce((a, b) => a + b, 0);
        }
        return out;
      },
      async clearLogs() {
        for (const r of all) await r.clearLog();
      },
      async stop() {
        for (const r of all) await r.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    await s.clearLogs();
    return s;
  } catch (err) {
    for (const r of all) await r.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
