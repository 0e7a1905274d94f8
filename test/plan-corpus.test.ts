// `sigmirror plan` over the shared corpus of registry.k8s.io's real manifests. The expected
// figures come from a deliberately simple line scan below: no YAML parser, no planner code.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { repoRoot, sigmirror } from "./lib/cli.ts";

const corpusArg = "../shared/corpus/k8s.io";
const corpus = resolve(repoRoot, corpusArg);
const present = existsSync(join(corpus, "manifests"));
const primary = "us-central1-docker.pkg.dev";
if (!present) console.warn(`plan-corpus: skipped, corpus not found at ${corpus} (expected ../shared/corpus/k8s.io beside the repository)`);

interface Scan {
  /** "repository digest" -> hosts */
  groups: Map<string, Set<string>>;
  /** "file:line" of each warning the corpus really has. */
  warnings: string[];
  projects: number;
}

const digestRe = /^sha256:[0-9a-f]{64}$/;
const tagRe = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");

/** `- name: X` / `src: true` / `imagesPath: P` lines of a promoter-manifest.yaml (path as the CLI is given it). */
function scanManifest(file: string, warnings: string[]) {
  const registries: { name: string; line: number; src: boolean }[] = [];
  let imagesPath: string | undefined;
  readFileSync(resolve(repoRoot, file), "utf8")
    .split(/\r?\n/)
    .forEach((text, i) => {
      const name = /^\s*-\s*name:\s*(\S+)\s*$/.exec(text);
      if (name) registries.push({ name: unquote(name[1] ?? ""), line: i + 1, src: false });
      const last = registries[registries.length - 1];
      if (/^\s+src:\s*true\s*$/.test(text) && last) last.src = true;
      const path = /^imagesPath:\s*(\S+)\s*$/.exec(text);
      if (path) imagesPath = unquote(path[1] ?? "");
    });
  const seen = new Set<string>();
  const destinations: string[] = [];
  for (const r of registries.filter((x) => !x.src)) {
    if (seen.has(r.name)) warnings.push(`${file}:${r.line}`);
    else destinations.push(r.name);
    seen.add(r.name);
  }
  return { destinations, imagesPath };
}

/** `- name:` entries, `"digest": [tags]` and `digest:` + `- tag` lines of an images.yaml. */
function scanImages(file: string, warnings: string[]): Map<string, Map<string, Set<string>>> {
  const images = new Map<string, Map<string, Set<string>>>();
  let image: Map<string, Set<string>> | undefined;
  let blockTags: { digest: string; line: number; tags: string[] } | undefined;
  const flush = () => {
    if (blockTags && image) addDigest(image, blockTags.digest, blockTags.tags, `${file}:${blockTags.line}`);
    blockTags = undefined;
  };
  const addDigest = (into: Map<string, Set<string>>, digest: string, tags: string[], where: string) => {
    if (!digestRe.test(digest)) return void warnings.push(where);
    const good = tags.filter((t) => tagRe.test(t));
    for (let i = good.length; i < tags.length; i++) warnings.push(where);
    if (good.length === 0) return;
    const known = into.get(digest) ?? new Set<string>();
    for (const t of good) known.add(t);
    into.set(digest, known);
  };
  readFileSync(resolve(repoRoot, file), "utf8")
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const text = raw.replace(/\s+#.*$/, "");
      if (/^\s*(#.*)?$/.test(text)) return;
      const name = /^-\s*name:\s*(\S+)$/.exec(text);
      if (name) {
        flush();
        const n = unquote(name[1] ?? "");
        image = images.get(n) ?? new Map();
        images.set(n, image);
        return;
      }
      if (/^\s+dmap:\s*$/.test(text)) return;
      const tagLine = /^\s+-\s+(\S+)$/.exec(text);
      if (tagLine && blockTags) return void blockTags.tags.push(unquote(tagLine[1] ?? ""));
      const entry = /^\s+("[^"]*"|'[^']*'|[^\s"']+):\s*(\[.*\])?$/.exec(text);
      if (!entry || !image) throw new Error(`corpus scan: unexpected line ${file}:${i + 1}: ${raw}`);
      flush();
      const digest = unquote(entry[1] ?? "");
      if (entry[2] === undefined) {
        blockTags = { digest, line: i + 1, tags: [] };
        return;
      }
      const inner = entry[2].slice(1, -1).trim();
      addDigest(image, digest, inner === "" ? [] : inner.split(",").map(unquote), `${file}:${i + 1}`);
    });
  flush();
  return images;
}

function scanCorpus(): Scan {
  const groups = new Map<string, Set<string>>();
  const warnings: string[] = [];
  let projects = 0;
  const manifestsDir = join(corpusArg, "manifests");
  for (const project of readdirSync(resolve(repoRoot, manifestsDir)).sort()) {
    const manifestFile = join(manifestsDir, project, "promoter-manifest.yaml");
    if (!existsSync(resolve(repoRoot, manifestFile))) continue;
    projects++;
    const { destinations, imagesPath } = scanManifest(manifestFile, warnings);
    const imagesFile = imagesPath === undefined ? join(corpusArg, "images", project, "images.yaml") : join(dirname(manifestFile), imagesPath);
    const images = scanImages(imagesFile, warnings);
    for (const registry of destinations) {
      const host = registry.slice(0, registry.indexOf("/"));
      const path = registry.slice(registry.indexOf("/") + 1);
      for (const [name, digests] of images) {
        for (const digest of digests.keys()) {
          const key = `${path}/${name} ${digest}`;
          const hosts = groups.get(key) ?? new Set<string>();
          hosts.add(host);
          groups.set(key, hosts);
        }
      }
    }
  }
  return { groups, warnings, projects };
}

describe.skipIf(!present)("plan over the shared registry.k8s.io corpus", () => {
  const scan = present ? scanCorpus() : { groups: new Map<string, Set<string>>(), warnings: [], projects: 0 };
  const groups = scan.groups.size;
  let edges = 0;
  const hosts = new Set<string>();
  let withoutPrimary = 0;
  const perHost = new Map<string, number>();
  for (const set of scan.groups.values()) {
    edges += set.size;
    if (!set.has(primary)) withoutPrimary++;
    for (const h of set) {
      hosts.add(h);
      perHost.set(h, (perHost.get(h) ?? 0) + 1);
    }
  }

  test("the independent scan sees the corpus as described (87 projects, ~9,300 groups, 3 bad entries)", () => {
    expect(scan.projects).toBe(87);
    expect(groups).toBeGreaterThan(9000);
    expect(scan.warnings).toHaveLength(3);
  });

  test("--output json: exit 0, exactly the corpus's warnings, counts equal to the scan's", async () => {
    const r = await sigmirror(["plan", "--thin-manifest-dir", corpusArg, "--primary", primary, "--output", "json"]);
    expect(r.code).toBe(0);
    const lines = r.err.trimEnd().split("\n");
    expect(lines.map((l) => /^sigmirror: ([^:]+:\d+): /.exec(l)?.[1])).toEqual(scan.warnings);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(json).toMatchObject({
      projects: scan.projects,
      groups,
      edges,
      mirror_pairs: edges - groups,
      hosts: hosts.size,
      without_primary: withoutPrimary,
      warnings: scan.warnings.length,
    });
    const reported = json["per_host"] as Record<string, { groups: number }>;
    expect(Object.fromEntries(Object.entries(reported).map(([h, c]) => [h, c.groups]))).toEqual(Object.fromEntries([...perHost].sort()));
  });

  test("--output jsonl: the very groups and host sets of the scan", async () => {
    const r = await sigmirror(["plan", "--thin-manifest-dir", corpusArg, "--primary", primary, "--output", "jsonl"]);
    expect(r.code).toBe(0);
    const got = new Map<string, string[]>();
    for (const line of r.out.trimEnd().split("\n")) {
      const g = JSON.parse(line) as { repository: string; digest: string; hosts: string[]; primary: string | null; mirrors: string[] };
      got.set(`${g.repository} ${g.digest}`, g.hosts);
      expect(g.primary === null ? g.mirrors.length : g.mirrors.length + 1).toBe(g.primary === null ? 0 : g.hosts.length);
    }
    expect(got.size).toBe(groups);
    for (const [key, set] of scan.groups) expect(got.get(key)).toEqual([...set].sort());
  });
});
