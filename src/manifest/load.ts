import { readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { checkImagesFile, checkPlainManifest, checkThinManifest } from "./documents.ts";
import { checkFile } from "./file.ts";
import { scanImages, type TagLists } from "./images-scan.ts";
import type { Problem } from "./problem.ts";
import type { ImageEntry, ParsedSource } from "./types.ts";

export interface ManifestInputs {
  /** kpromo thin layouts: DIR/manifests/<p>/promoter-manifest.yaml with DIR/images/<p>/images.yaml. */
  readonly thinDirs: readonly string[];
  /** Plain manifests: `registries` and `images` in one file. */
  readonly manifests: readonly string[];
}

export interface LoadOptions {
  /** Every warning becomes a fatal error (presubmit checks). */
  readonly strict: boolean;
}

export interface Loaded {
  /** Complete only when `errors` is empty. */
  readonly sources: readonly ParsedSource[];
  /** Skipped or de-duplicated entries; the run goes on. */
  readonly warnings: readonly Problem[];
  /** Fatal: at most one per bad file (every warning too under `strict`). */
  readonly errors: readonly Problem[];
}

const manifestName = "promoter-manifest.yaml";

/** Reads and validates every manifest; pure apart from reading the files. */
export function loadManifests(inputs: ManifestInputs, options: LoadOptions): Loaded {
  const problems: Problem[] = [];
  const sources: ParsedSource[] = [];
  // An images.yaml that two manifests name (imagesPath) is read, and reported, once.
  const imagesCache = new Map<string, readonly ImageEntry[] | undefined>();
  const tagLists: TagLists = new Map();
  const scan = (text: string) => scanImages(text, tagLists);
  const seen = new Set<string>();
  const once = (path: string) => {
    const key = resolve(path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };

  for (const dir of inputs.thinDirs) {
    if (!once(dir)) continue;
    const projects = listThinProjects(dir, problems);
    for (const project of projects) {
      const manifestFile = join(dir, "manifests", project, manifestName);
      const manifest = checkFile({ file: manifestFile, check: checkThinManifest }, problems);
      if (manifest === undefined) continue;
      const imagesFile =
        manifest.imagesPath === undefined
          ? join(dir, "images", project, "images.yaml")
          : isAbsolute(manifest.imagesPath)
            ? manifest.imagesPath
            : join(dirname(manifestFile), manifest.imagesPath);
      const key = resolve(imagesFile);
      let images: readonly ImageEntry[] | undefined;
      if (imagesCache.has(key)) {
        images = imagesCache.get(key);
      } else {
        const readContext =
          manifest.imagesPath === undefined ? `the images of ${manifestFile}` : `imagesPath of ${manifestFile}`;
        images = checkFile({ file: imagesFile, display: ["images"], readContext, check: checkImagesFile, scan }, problems);
        imagesCache.set(key, images);
      }
      if (images === undefined) continue;
      sources.push({ kind: "thin", project, manifestFile, imagesFile, src: manifest.src, destinations: manifest.destinations, images });
    }
  }

  for (const file of inputs.manifests) {
    if (!once(file)) continue;
    const manifest = checkFile({ file, check: checkPlainManifest }, problems);
    if (manifest === undefined) continue;
    sources.push({
      kind: "plain",
      project: file,
      manifestFile: file,
      imagesFile: file,
      src: manifest.src,
      destinations: manifest.destinations,
      images: manifest.images,
    });
  }

  if (options.strict) {
    return { sources, warnings: [], errors: problems.map((p) => (p.severity === "error" ? p : { ...p, severity: "error" })) };
  }
  return {
    sources,
    warnings: problems.filter((p) => p.severity === "warning"),
    errors: problems.filter((p) => p.severity === "error"),
  };
}

/** The project names under DIR/manifests that hold a promoter-manifest.yaml, sorted. */
function listThinProjects(dir: string, problems: Problem[]): string[] {
  const fault = (file: string, message: string) => {
    problems.push({ severity: "error", file, field: "", message });
    return [];
  };
  const layout = "expected kpromo's thin layout DIR/manifests/<project>/promoter-manifest.yaml";
  const kind = statKind(dir);
  if (kind === "missing") return fault(dir, "cannot read: no such directory");
  if (kind !== "dir") return fault(dir, `not a directory; ${layout}`);
  const manifestsDir = join(dir, "manifests");
  const manifestsKind = statKind(manifestsDir);
  if (manifestsKind !== "dir") return fault(manifestsDir, `${manifestsKind === "missing" ? "no such directory" : "not a directory"}; ${layout}`);
  let names: string[];
  try {
    names = readdirSync(manifestsDir).sort();
  } catch (err) {
    return fault(manifestsDir, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  // A project directory without a manifest is skipped, as kpromo does; a manifest that is not a
  // file is reported when it is read.
  const projects = names.filter((name) => statKind(join(manifestsDir, name)) === "dir" && statKind(join(manifestsDir, name, manifestName)) !== "missing");
  if (projects.length === 0) return fault(dir, `no manifest at all; ${layout}`);
  return projects;
}

function statKind(path: string): "missing" | "dir" | "file" | "other" {
  try {
    const s = statSync(path);
    return s.isDirectory() ? "dir" : s.isFile() ? "file" : "other";
  } catch {
    return "missing";
  }
}
