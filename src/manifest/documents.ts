// The three kinds of document: a thin promoter-manifest.yaml, an images.yaml, a plain manifest.
import { checkImages } from "./images.ts";
import { checkRegistries, type Registries } from "./registries.ts";
import type { FileReport } from "./report.ts";
import { checkFields, describe, field, isNull, requireMapping } from "./shape.ts";
import type { ImageEntry } from "./types.ts";

export interface ThinManifest extends Registries {
  /** As written, relative to the manifest file's directory. */
  readonly imagesPath: string | undefined;
}

export interface PlainManifest extends Registries {
  readonly images: readonly ImageEntry[];
}

function root(report: FileReport, doc: unknown, fields: readonly string[]) {
  if (isNull(doc)) report.fail([], `empty; expected a mapping with ${fields.join(" and ")}`);
  const map = requireMapping(report, [], doc, "a promoter manifest");
  checkFields(report, [], map, fields);
  if (field(map, "registries") === undefined) report.fail([], "missing field registries");
  return map;
}

/** `registries` and an optional `imagesPath`. */
export function checkThinManifest(doc: unknown, report: FileReport): ThinManifest {
  const map = root(report, doc, ["registries", "imagesPath"]);
  const registries = checkRegistries(report, ["registries"], field(map, "registries"));
  const imagesPath = field(map, "imagesPath");
  if (imagesPath !== undefined && (typeof imagesPath !== "string" || imagesPath === "")) {
    report.fail(["imagesPath"], `expected a path relative to this file, got ${describe(imagesPath)}`);
  }
  return { ...registries, imagesPath };
}

/** The list of images; a file with no document, or comments only, is an empty list. */
export function checkImagesFile(doc: unknown, report: FileReport): ImageEntry[] {
  return checkImages(report, [], doc);
}

/** `registries` and `images` in one file. */
export function checkPlainManifest(doc: unknown, report: FileReport): PlainManifest {
  const map = root(report, doc, ["registries", "images"]);
  if (field(map, "images") === undefined) report.fail([], "missing field images");
  const registries = checkRegistries(report, ["registries"], field(map, "registries"));
  return { ...registries, images: checkImages(report, ["images"], field(map, "images")) };
}
