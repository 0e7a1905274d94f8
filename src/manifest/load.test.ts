import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadManifests } from "./load.ts";
import { formatProblem, type Problem } from "./problem.ts";

const fixtures = join(import.meta.dir, "../../test/fixtures/manifests");
const d = (n: number) => `sha256:${String(n).repeat(64)}`;

function load(thinDirs: string[], manifests: string[] = [], strict = false) {
  return loadManifests({ thinDirs, manifests }, { strict });
}

/** The one problem of a file that must fail, as (line, field, message). */
function onlyError(result: ReturnType<typeof load>): Problem {
  expect(result.errors).toHaveLength(1);
  return result.errors[0] as Problem;
}

describe("thin layout", () => {
  const dir = join(fixtures, "thin-good");
  const result = load([dir]);

  test("every project with a manifest is read, in name order; others are skipped", () => {
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.sources.map((s) => s.project)).toEqual(["alpha", "beta", "empty"]);
    expect(result.sources.every((s) => s.kind === "thin")).toBe(true);
  });

  test("registries: src kept apart, destinations split into host and path", () => {
    const alpha = result.sources[0];
    expect(alpha?.src).toBe("staging.example/alpha");
    expect(alpha?.destinations).toEqual([
      { name: "r1.example/prod/images", host: "r1.example", path: "prod/images" },
      { name: "r2.example:5000/prod/images", host: "r2.example:5000", path: "prod/images" },
      { name: "legacy.example/prod-legacy/alpha", host: "legacy.example", path: "prod-legacy/alpha" },
    ]);
    // `src: false` is a destination; a Docker Hub short name is a valid src.
    expect(result.sources[1]?.destinations.map((x) => x.host)).toEqual(["r1.example", "r3.example"]);
    expect(result.sources[2]?.src).toBe("coredns/coredns");
  });

  test("entries of one name are merged; untagged digests are left out; tags keep their text", () => {
    const images = result.sources[0]?.images ?? [];
    expect(images.map((i) => i.name)).toEqual(["app", "tool/sub"]);
    const app = images[0]?.digests;
    expect([...(app?.keys() ?? [])]).toEqual([d(1), d(2)]);
    expect(app?.get(d(1))).toEqual(["v1.0", "latest"]);
    expect(app?.get(d(2))).toEqual(["v1.1", "v1.1-rc"]);
    expect(images[1]?.digests.get(d(3))).toEqual(["1.20"]);
  });

  test("imagesPath is relative to the manifest file; a comment-only images.yaml is empty", () => {
    expect(result.sources[1]?.imagesFile).toBe(join(dir, "images/beta-images/images.yaml"));
    expect(result.sources[1]?.images.map((i) => i.name)).toEqual(["app"]);
    expect(result.sources[2]?.imagesFile).toBe(join(dir, "images/empty/images.yaml"));
    expect(result.sources[2]?.images).toEqual([]);
  });

  test("the same directory given twice is read once", () => {
    expect(load([dir, `${dir}/`]).sources).toHaveLength(3);
  });
});

describe("plain manifest", () => {
  test("registries and images in one file", () => {
    const result = load([], [join(fixtures, "plain/manifest.yaml"), join(fixtures, "plain/empty-images.yaml")]);
    expect(result.errors).toEqual([]);
    expect(result.sources.map((s) => [s.kind, s.images.length, s.destinations.length])).toEqual([
      ["plain", 2, 2],
      ["plain", 0, 1],
    ]);
  });
});

describe("entry warnings", () => {
  const dir = join(fixtures, "thin-warnings");
  const manifest = join(dir, "manifests/w/promoter-manifest.yaml");
  const images = join(dir, "images/w/images.yaml");

  test("each names file, line and entry; the run goes on", () => {
    const result = load([dir]);
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => [w.file, w.line, w.field])).toEqual([
      [manifest, 6, "registries[3].name"],
      [images, 6, 'images[1].dmap "sha256:23eb4b1775fbaa2adca55c73cf0341e1224d6308689b6f4b3aa1523312eb81c"'],
      [images, 7, 'images[1].dmap "cfa73b9a4e08b996a6948dfd597b7b5734466a74d49776ccb332bc4db9e6dfa4"'],
      [images, 8, 'images[1].dmap "sha256:ABCDEF1775fbaa2adca55c73cf0341e1224d6308689b6f4b3aa1523312eb81cd"'],
      [images, 11, `images[2].dmap "${d(6)}"`],
      [images, 11, `images[2].dmap "${d(6)}"`],
      [images, 12, `images[2].dmap "${d(7)}"`],
    ]);
    expect(formatProblem(result.warnings[1] as Problem)).toBe(
      `sigmirror: ${images}:6: images[1].dmap "sha256:23eb4b1775fbaa2adca55c73cf0341e1224d6308689b6f4b3aa1523312eb81c": not 64 lowercase hex: 63 hex characters; digest of "bad-digests" skipped`,
    );
    expect(result.warnings[0]?.message).toContain('"127.0.0.2:5000/prod/w" listed twice (first at registries[1])');
    expect(result.warnings[4]?.message).toContain('tag "-bad"');
    expect(result.warnings[5]?.message).toContain('tag "also good"');
    expect(result.warnings[6]?.message).toContain("and the digest with it");
  });

  test("skipped entries are gone, de-duplicated ones kept once", () => {
    const [source] = load([dir]).sources;
    expect(source?.destinations.map((x) => x.host)).toEqual(["127.0.0.2:5000", "127.0.0.3:5000"]);
    const byName = new Map(source?.images.map((i) => [i.name, [...i.digests]]));
    expect(byName.get("ok")).toEqual([[d(1), ["v1"]]]);
    expect(byName.get("bad-digests")).toEqual([]);
    expect(byName.get("bad-tags")).toEqual([[d(6), ["good"]]]);
  });

  test("--strict turns every warning into a fatal error", () => {
    const result = load([dir], [], true);
    expect(result.warnings).toEqual([]);
    expect(result.errors).toHaveLength(7);
    expect(result.errors.every((e) => e.severity === "error")).toBe(true);
  });
});

describe("fatal errors: one line per bad file", () => {
  const bad = (name: string) => join(fixtures, "bad", name);
  const cases: [string, number | undefined, string, RegExp][] = [
    ["yaml-syntax.yaml", 4, "", /^YAML: bad indentation/],
    ["binary.yaml", undefined, "", /not UTF-8/],
    ["not-utf8.yaml", undefined, "", /not UTF-8/],
    ["duplicate-key.yaml", 8, "", /^YAML: duplicated mapping key/],
    ["unknown-field.yaml", 5, 'registries[1] "servce-account"', /unknown field \(expected name, src, service-account\)/],
    ["two-src.yaml", 5, "registries[1].src", /second src registry \(the first is registries\[0\]\)/],
    ["no-src.yaml", 1, "registries", /no src registry/],
    ["scheme.yaml", 4, "registries[1].name", /"https:\/\/r1.example\/prod": a scheme is not allowed/],
    ["empty-path.yaml", 4, "registries[1].name", /"r1.example\/\/prod"/],
    ["no-path.yaml", 4, "registries[1].name", /no repository path/],
    ["image-name.yaml", 8, "images[1].name", /"Bad\/Name" is outside the OCI name grammar/],
    ["image-dotdot.yaml", 6, "images[0].name", /"a\/..\/b" is outside the OCI name grammar/],
    ["wrong-shape.yaml", 1, "registries", /expected the registries \(a list\), got a mapping/],
    ["unknown-tag.yaml", 3, "", /^YAML: unknown scalar tag/],
    ["tags-not-list.yaml", 8, `images[0].dmap "${d(1)}"`, /expected the tags \(a list\), got a mapping/],
    ["src-not-bool.yaml", 3, "registries[0].src", /expected true or false, got the text "yes please"/],
    ["two-documents.yaml", undefined, "", /holds 2 YAML documents/],
    ["empty.yaml", undefined, "", /^empty; expected a mapping with registries and images/],
    ["is-a-directory.yaml", undefined, "", /is a directory/],
  ];
  for (const [name, line, field, message] of cases) {
    test(name, () => {
      const problem = onlyError(load([], [bad(name)]));
      expect(problem.file).toBe(bad(name));
      expect(problem.line).toBe(line);
      expect(problem.field).toBe(field);
      expect(problem.message).toMatch(message);
    });
  }

  test("all of them at once: every bad file reported, none more than once", () => {
    const result = load([], cases.map(([name]) => bad(name)));
    expect(result.errors.map((e) => e.file)).toEqual(cases.map(([name]) => bad(name)));
    expect(result.sources).toEqual([]);
  });

  const thin = (name: string) => join(fixtures, "bad-thin", name);
  const thinCases: [string, string, RegExp][] = [
    ["no-manifest", thin("no-manifest"), /no manifest at all/],
    ["no-manifests-dir", join(thin("no-manifests-dir"), "manifests"), /no such directory/],
    ["missing-images", join(thin("missing-images"), "images/p/images.yaml"), /no such file \(the images of .*promoter-manifest.yaml\)/],
    ["missing-images-path", join(thin("missing-images-path"), "images/elsewhere/images.yaml"), /no such file \(imagesPath of /],
    ["manifest-is-dir", join(thin("manifest-is-dir"), "manifests/p/promoter-manifest.yaml"), /is a directory/],
    ["images-field", join(thin("images-field"), "manifests/p/promoter-manifest.yaml"), /unknown field \(expected registries, imagesPath\)/],
    ["images-mapping", join(thin("images-mapping"), "images/p/images.yaml"), /expected the images \(a list\), got a mapping/],
  ];
  for (const [name, file, message] of thinCases) {
    test(`thin: ${name}`, () => {
      const problem = onlyError(load([thin(name)]));
      expect(problem.file).toBe(file);
      expect(problem.message).toMatch(message);
    });
  }

  test("thin: a directory that does not exist", () => {
    const problem = onlyError(load([join(fixtures, "no-such-dir")]));
    expect(problem.message).toBe("cannot read: no such directory");
  });
});

describe("shared images.yaml", () => {
  const tmp = mkdtempSync(join(tmpdir(), "sigmirror-load-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test("two manifests naming one images.yaml: read once, its warnings once", () => {
    for (const p of ["a", "b"]) {
      mkdirSync(join(tmp, "manifests", p), { recursive: true });
      writeFileSync(
        join(tmp, "manifests", p, "promoter-manifest.yaml"),
        `registries:\n- name: s.example/${p}\n  src: true\n- name: r.example/${p}\nimagesPath: ../../images/common/images.yaml\n`,
      );
    }
    mkdirSync(join(tmp, "images", "common"), { recursive: true });
    writeFileSync(join(tmp, "images", "common", "images.yaml"), `- name: x\n  dmap:\n    "${d(1)}": ["v1"]\n    "sha256:00": ["v2"]\n`);
    const result = load([tmp]);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]?.line).toBe(4);
    expect(result.sources.map((s) => s.images[0]?.digests.size)).toEqual([1, 1]);
  });
});

describe("files that are not regular files, or too large, are refused without reading them", () => {
  const tmp = mkdtempSync(join(tmpdir(), "sigmirror-load-special-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A thin layout whose images.yaml (or manifest) is made by `make`. */
  function layout(name: string, which: "images" | "manifest", make: (path: string) => void): { dir: string; file: string } {
    const dir = join(tmp, name);
    mkdirSync(join(dir, "manifests", "p"), { recursive: true });
    mkdirSync(join(dir, "images", "p"), { recursive: true });
    const manifest = join(dir, "manifests", "p", "promoter-manifest.yaml");
    const images = join(dir, "images", "p", "images.yaml");
    if (which === "images") writeFileSync(manifest, "registries:\n- name: s.example/p\n  src: true\n- name: r.example/p\n");
    else writeFileSync(images, "[]\n");
    const file = which === "images" ? images : manifest;
    make(file);
    return { dir, file };
  }
  const fifo = (path: string) => {
    const r = Bun.spawnSync(["mkfifo", path]);
    if (r.exitCode !== 0) throw new Error(`mkfifo ${path}: ${r.stderr.toString()}`);
  };
  const sparse = (bytes: number) => (path: string) => {
    writeFileSync(path, "");
    truncateSync(path, bytes);
  };

  const cases: [string, "images" | "manifest", (path: string) => void, RegExp][] = [
    ["images.yaml a FIFO", "images", fifo, /^cannot read: not a regular file \(a FIFO\) \(the images of .*promoter-manifest\.yaml\)$/],
    ["promoter-manifest.yaml a FIFO", "manifest", fifo, /^cannot read: not a regular file \(a FIFO\)$/],
    ["images.yaml of 64 MiB + 1 byte (sparse)", "images", sparse(64 * 1024 * 1024 + 1), /^cannot read: 67108865 bytes, more than a manifest file may hold \(64 MiB\)/],
  ];
  for (const [name, which, make, message] of cases) {
    test(`thin: ${name}`, () => {
      const { dir, file } = layout(name.replace(/[^a-z0-9]+/gi, "-"), which, make);
      const problem = onlyError(load([dir]));
      expect(problem.file).toBe(file);
      expect(problem.message).toMatch(message);
    });
  }

  test("thin: images.yaml of exactly 64 MiB is read (the cap is inclusive)", () => {
    const { dir } = layout("at-the-cap", "images", (path) => writeFileSync(path, `[]${" ".repeat(64 * 1024 * 1024 - 3)}\n`));
    expect(load([dir]).errors).toEqual([]);
  });

  const devices: [string, RegExp][] = [
    ["/dev/zero", /^cannot read: not a regular file \(a character device\)$/],
    ["/dev/null", /^cannot read: not a regular file \(a character device\)$/],
  ];
  for (const [file, message] of devices) {
    test(`--manifest ${file}`, () => {
      const problem = onlyError(load([], [file]));
      expect(problem.file).toBe(file);
      expect(problem.message).toMatch(message);
    });
  }
});
