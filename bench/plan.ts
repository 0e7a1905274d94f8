// `sigmirror plan --output json` on a synthetic corpus five times the shared registry.k8s.io one
// (~46,000 groups, the full registry's shape), side by side with parsing alone and with 1x.
// Reproduce: make build && node_modules/.bin/bun bench/plan.ts   (SIGMIRROR_BIN=... to pick a binary)
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FAILSAFE_SCHEMA, loadAll } from "js-yaml";
import { loadManifests } from "../src/manifest/load.ts";
import { planGroups } from "../src/plan/plan.ts";

const root = resolve(import.meta.dir, "..");
const shared = resolve(root, "../shared/corpus/k8s.io");
const copies = Number(process.env["BENCH_COPIES"] ?? 5);
const runs = Number(process.env["BENCH_RUNS"] ?? 5);
const primary = "us-central1-docker.pkg.dev";

if (!existsSync(join(shared, "manifests"))) {
  console.error(`bench/plan: the shared corpus is missing (${shared}); it is the template of the synthetic one`);
  process.exit(2);
}

/** Each project copied `copies` times under new names, every digest replaced by a fresh one. */
function generate(into: string, n: number): void {
  for (const project of readdirSync(join(shared, "manifests")).sort()) {
    const manifest = readFileSync(join(shared, "manifests", project, "promoter-manifest.yaml"), "utf8");
    const imagesName = /^imagesPath:\s*"?\.\.\/\.\.\/images\/([^/"]+)\/images\.yaml"?\s*$/m.exec(manifest)?.[1] ?? project;
    const images = readFileSync(join(shared, "images", imagesName, "images.yaml"), "utf8");
    for (let k = 0; k < n; k++) {
      const name = `${project}-copy${k}`;
      const imagesCopy = `${imagesName}-copy${k}`;
      mkdirSync(join(into, "manifests", name), { recursive: true });
      mkdirSync(join(into, "images", imagesCopy), { recursive: true });
      writeFileSync(join(into, "manifests", name, "promoter-manifest.yaml"), manifest.replace(`/images/${imagesName}/`, `/images/${imagesCopy}/`));
      const fresh = images.replace(/sha256:([0-9a-f]{64})/g, (_, hex: string) => `sha256:${createHash("sha256").update(`${k}:${hex}`).digest("hex")}`);
      writeFileSync(join(into, "images", imagesCopy, "images.yaml"), fresh);
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function timeInProcess(fn: () => void): number {
  fn(); // warm
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const binary = process.env["SIGMIRROR_BIN"] ?? join(root, "dist/sigmirror");
const command = existsSync(binary) ? [binary] : [process.execPath, join(root, "src/main.ts")];

// Peak RSS from GNU time: a child's own ru_maxrss includes the pre-exec memory of this forked
// bench process, so Bun's resourceUsage would report the parent's size.
const gnuTime = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

function timeCli(args: string[]): { ms: number; rssMB: number | undefined; out: string } {
  const t: number[] = [];
  let rss: number | undefined;
  let out = "";
  for (let i = 0; i < runs; i++) {
    const argv = gnuTime === undefined ? [...command, ...args] : [gnuTime, "-f", "%M", ...command, ...args];
    const t0 = performance.now();
    const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", env: { PATH: process.env["PATH"] ?? "" } });
    t.push(performance.now() - t0);
    const err = r.stderr.toString();
    if (r.exitCode !== 0) throw new Error(`${args.join(" ")} exited ${r.exitCode}: ${err}`);
    const kb = gnuTime === undefined ? undefined : Number(/(\d+)\s*$/.exec(err)?.[1]);
    if (kb !== undefined && Number.isFinite(kb)) rss = Math.max(rss ?? 0, kb / 1024);
    out = r.stdout.toString();
  }
  return { ms: median(t), rssMB: rss, out };
}

const mb = (x: number | undefined) => (x === undefined ? "n/a (no /usr/bin/time)" : `${x.toFixed(0)} MB`);

const tmp = mkdtempSync(join(tmpdir(), "sigmirror-bench-plan-"));
try {
  generate(tmp, copies);
  const files = [join(tmp, "manifests"), join(tmp, "images")].flatMap((dir) =>
    readdirSync(dir).map((p) => join(dir, p, dir.endsWith("manifests") ? "promoter-manifest.yaml" : "images.yaml")),
  );
  const bytes = files.reduce((n, f) => n + readFileSync(f).length, 0);

  const parseOnly = timeInProcess(() => {
    for (const f of files) loadAll(readFileSync(f, "utf8"), { schema: FAILSAFE_SCHEMA });
  });
  const load = timeInProcess(() => void loadManifests({ thinDirs: [tmp], manifests: [] }, { strict: false }));
  const loaded = loadManifests({ thinDirs: [tmp], manifests: [] }, { strict: false });
  const planOnly = timeInProcess(() => void planGroups(loaded.sources, [primary], loaded.warnings));
  const plan = planGroups(loaded.sources, [primary], loaded.warnings);

  const big = timeCli(["plan", "--thin-manifest-dir", tmp, "--primary", primary, "--output", "json"]);
  const one = timeCli(["plan", "--thin-manifest-dir", shared, "--primary", primary, "--output", "json"]);
  const help = timeCli(["--help"]);
  const counts = JSON.parse(big.out) as { groups: number; hosts: number; edges: number; warnings: number };

  const who = command.length === 1 ? (process.env["SIGMIRROR_BIN"] ?? "dist/sigmirror") : "bun src/main.ts";
  console.log(`plan: synthetic corpus ${copies}x shared: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${counts.groups} groups, ${counts.hosts} hosts, ${counts.edges} edges, ${counts.warnings} warnings`);
  console.log(`plan: ${who} plan --output json: ${big.ms.toFixed(0)} ms wall, peak RSS ${mb(big.rssMB)} (median of ${runs} runs)`);
  console.log(`plan: same on the shared corpus (1x): ${one.ms.toFixed(0)} ms, peak RSS ${mb(one.rssMB)}; ${copies}x/1x time ratio ${(big.ms / one.ms).toFixed(2)}`);
  console.log(`plan: ${who} --help (startup floor): ${help.ms.toFixed(0)} ms, peak RSS ${mb(help.rssMB)}`);
  console.log(`plan: in this process (bun, warm): YAML parse alone ${parseOnly.toFixed(0)} ms (${(bytes / 1e6 / (parseOnly / 1000)).toFixed(1)} MB/s); read+parse+validate ${load.toFixed(0)} ms (${(load / parseOnly).toFixed(2)}x parse); planGroups ${planOnly.toFixed(1)} ms for ${plan.groups.length} groups (${((planOnly / load) * 100).toFixed(0)}% of loading)`);
  console.log(`plan: whole CLI run / parse alone: ${(big.ms / parseOnly).toFixed(2)}x`);
  console.log(`plan: reproduce with: make build && node_modules/.bin/bun bench/plan.ts  (BENCH_COPIES=${copies} BENCH_RUNS=${runs})`);
  console.log(`plan: one run by hand: ${who} plan --thin-manifest-dir <generated dir> --primary ${primary} --output json`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
