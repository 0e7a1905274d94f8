import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkImagesFile } from "./documents.ts";
import { scanImages } from "./images-scan.ts";
import { FileAbandoned, FileReport } from "./report.ts";
import type { ImageEntry } from "./types.ts";
import { parseYaml } from "./yaml.ts";

/** What js-yaml and checkImages make of the text: the images when nothing is reported, else undefined. */
function viaYaml(text: string): ImageEntry[] | undefined {
  const parsed = parseYaml(text, "images.yaml");
  if (!("doc" in parsed)) return undefined;
  const report = new FileReport("images.yaml", ["images"]);
  try {
    const images = checkImagesFile(parsed.doc, report);
    return report.problems(text).length === 0 ? images : undefined;
  } catch (err) {
    if (err instanceof FileAbandoned) return undefined;
    throw err;
  }
}

const plain = (images: readonly ImageEntry[] | undefined) => images?.map((i) => [i.name, [...i.digests]]);

/** The scan either declines or gives exactly what the js-yaml path gives, with nothing to report. */
function expectEquivalent(text: string): ImageEntry[] | undefined {
  const scanned = scanImages(text);
  if (scanned !== undefined) {
    expect(viaYaml(text)).toBeDefined();
    expect(plain(scanned)).toEqual(plain(viaYaml(text)));
  }
  return scanned;
}

const d = (n: number) => `sha256:${String(n).repeat(64)}`;

describe("the scan of images.yaml", () => {
  test("kpromo's layout: entries merged by name, tags merged in order, comments and blank lines skipped", () => {
    const text = [
      "# header",
      "- name: app",
      "  dmap:",
      `    "${d(1)}": ["v1", "v2"] # not tags: [x, y]`,
      "",
      "# at column 0",
      `    '${d(2)}': [ v3 ,'v4' ] # trailing`,
      "  # indented comment",
      "- name:  tool/sub # an image",
      "  dmap:   ",
      `      "${d(3)}": ["1.20"]`,
      "- name: app",
      "  dmap:",
      `    "${d(1)}": ["v2", "v0", "v0"]`,
      `    "${d(4)}": ["v1","v1"]`,
    ].join("\n");
    const scanned = expectEquivalent(text);
    expect(plain(scanned)).toEqual([
      ["app", [[d(1), ["v1", "v2", "v0"]], [d(2), ["v3", "v4"]], [d(4), ["v1", "v1"]]]],
      ["tool/sub", [[d(3), ["1.20"]]]],
    ]);
  });

  test("one tag's list is shared among digests, and a merge into one leaves the others alone", () => {
    const text = [
      "- name: app",
      "  dmap:",
      `    "${d(5)}": ["v9"]`,
      `    "${d(6)}": ["v9"]`,
      "- name: app",
      "  dmap:",
      `    "${d(5)}": ["w"]`,
    ].join("\n");
    const shared = new Map<string, readonly string[]>();
    const scanned = scanImages(text, shared);
    expect(plain(scanned)).toEqual([["app", [[d(5), ["v9", "w"]], [d(6), ["v9"]]]]]);
    expect(plain(scanned)).toEqual(plain(viaYaml(text)));
    expect(scanned?.[0]?.digests.get(d(6))).toBe(shared.get("v9") as readonly string[]);
  });

  test("an empty file or comments only: no images", () => {
    expect(expectEquivalent("")).toEqual([]);
    expect(expectEquivalent("# nothing yet\n\n")).toEqual([]);
  });

  const entry = (line: string) => `- name: app\n  dmap:\n    "${d(1)}": ["v1"]\n${line}\n`;
  const declined: Record<string, string> = {
    "a digest twice in one mapping (a YAML error)": entry(`    "${d(1)}": ["v2"]`),
    "a digest twice in one mapping of a name listed before": `${entry("- name: app\n  dmap:")}    "${d(2)}": ["v2"]\n    "${d(2)}": ["v3"]\n`,
    "a plain digest key": entry(`    ${d(2)}: ["v2"]`),
    "tags as a block list": `- name: app\n  dmap:\n    "${d(1)}":\n    - v1\n`,
    "another indentation within one mapping": entry(`     "${d(2)}": ["v2"]`),
    "a digest that is not one (a warning)": entry(`    "sha256:${"A".repeat(64)}": ["v2"]`),
    "a tag outside the grammar (a warning)": entry(`    "${d(2)}": ["-v2"]`),
    "a tag too long (a warning)": entry(`    "${d(2)}": ["${"a".repeat(129)}"]`),
    "no tag": entry(`    "${d(2)}": []`),
    "an empty dmap": "- name: app\n  dmap:\n- name: other\n  dmap:\n",
    "an empty dmap at the end": entry("- name: other\n  dmap:"),
    "no dmap": entry("- name: other"),
    "a name outside the grammar": entry("- name: a//b\n  dmap:\n    \"" + d(2) + '": ["v"]'),
    "a name glued to a #": entry("- name: app#x\n  dmap:\n    \"" + d(2) + '": ["v"]'),
    "a quoted name": `- name: "app"\n  dmap:\n    "${d(1)}": ["v1"]\n`,
    "an unknown field": entry("  other: x"),
    "dmap before name": `- dmap:\n    "${d(1)}": ["v1"]\n  name: app\n`,
    "a document marker": `---\n${entry("")}`,
    "two documents": `${entry("")}---\n${entry("")}`,
    "a tab": entry(`\t# tab`),
    "CRLF line ends": entry("").replaceAll("\n", "\r\n"),
    "a non-ASCII comment": entry("# é"),
    "a control character": entry("# \u0001"),
    "an anchor": entry(`    "${d(2)}": &a ["v2"]`),
    "a flow list over two lines": entry(`    "${d(2)}": ["v2",\n      "v3"]`),
    "an indented sequence": `  - name: app\n    dmap:\n      "${d(1)}": ["v1"]\n`,
    "a continuation of the name": `- name: app\n   more\n  dmap:\n    "${d(1)}": ["v1"]\n`,
    "a mapping at the top": `images:\n${entry("")}`,
    "an escape in a quoted tag": entry(`    "${d(2)}": ["v\\u0032"]`),
  };
  for (const [what, text] of Object.entries(declined)) {
    test(`declined, for js-yaml to judge: ${what}`, () => {
      expect(expectEquivalent(text)).toBeUndefined();
    });
  }
});

const corpus = resolve(import.meta.dir, "../../../shared/corpus/k8s.io");
const present = existsSync(join(corpus, "images"));
if (!present) console.warn(`images-scan: corpus equivalence skipped, corpus not found at ${corpus}`);

describe.skipIf(!present)("the scan over the registry.k8s.io corpus", () => {
  test("every images.yaml: the scan's images are js-yaml's, and most files are scanned", () => {
    let scanned = 0;
    let files = 0;
    for (const project of readdirSync(join(corpus, "images")).sort()) {
      const file = join(corpus, "images", project, "images.yaml");
      if (!existsSync(file)) continue;
      files++;
      if (expectEquivalent(readFileSync(file, "utf8")) !== undefined) scanned++;
    }
    expect(files).toBe(87);
    // Two use block lists for tags, two hold a bad digest (warned about): js-yaml reads those.
    expect(scanned).toBe(83);
  });
});
