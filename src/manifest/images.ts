import { digestProblem, isDigest, isRepositoryPath, isTag } from "./grammar.ts";
import type { YamlStep } from "./problem.ts";
import type { FileReport } from "./report.ts";
import { checkFields, describe, field, isMapping, isNull, requireList, requireMapping, requireText } from "./shape.ts";
import type { ImageEntry } from "./types.ts";

const imageFields = ["name", "dmap"] as const;

/**
 * A list of `- name: <image>` / `dmap: {"sha256:<hex>": [tags]}` entries. Entries of one name
 * are merged. A digest that is not `sha256:` plus 64 lowercase hex, or a tag outside the OCI
 * grammar, is a warning and skipped; a digest left without a tag is skipped as kpromo did.
 */
export function checkImages(report: FileReport, steps: readonly YamlStep[], value: unknown): ImageEntry[] {
  if (isNull(value)) return [];
  const list = requireList(report, steps, value, "the images");
  const byName = new Map<string, Map<string, string[]>>();
  for (let index = 0; index < list.length; index++) {
    const at = [...steps, index];
    const map = requireMapping(report, at, list[index], "an image");
    checkFields(report, at, map, imageFields);
    const name = requireText(report, at, map, "name");
    if (!isRepositoryPath(name)) {
      report.fail([...at, "name"], `${JSON.stringify(name)} is outside the OCI name grammar (lowercase components, none empty or "..")`);
    }
    const dmap = field(map, "dmap");
    if (dmap === undefined) report.fail(at, "missing field dmap");
    let digests = byName.get(name);
    if (digests === undefined) {
      digests = new Map();
      byName.set(name, digests);
    }
    if (isNull(dmap)) continue;
    if (!isMapping(dmap)) report.fail([...at, "dmap"], `expected digests mapped to tags (a mapping), got ${describe(dmap)}`);
    // Steps are built only when something is reported: this loop runs once per digest.
    for (const digest of Object.keys(dmap)) {
      const tagsValue = dmap[digest];
      const tags: readonly unknown[] = Array.isArray(tagsValue)
        ? tagsValue
        : isNull(tagsValue)
          ? []
          : report.fail([...at, "dmap", digest], `expected the tags (a list), got ${describe(tagsValue)}`);
      if (!isDigest(digest)) {
        report.warn([...at, "dmap", digest], `${digestProblem(digest)}; digest of ${JSON.stringify(name)} skipped`);
        continue;
      }
      const valid = checkTags(report, at, digest, tags);
      if (valid.length === 0) continue;
      const known = digests.get(digest);
      if (known === undefined) digests.set(digest, valid);
      else for (const tag of valid) if (!known.includes(tag)) known.push(tag);
    }
  }
  return [...byName].map(([name, digests]) => ({ name, digests }));
}

function checkTags(report: FileReport, at: readonly YamlStep[], digest: string, tags: readonly unknown[]): string[] {
  // The common case, every tag fine, allocates nothing new.
  let valid: string[] | undefined;
  let bad: string[] | undefined;
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i];
    if (typeof tag !== "string") report.fail([...at, "dmap", digest, i], `expected a tag (text), got ${describe(tag)}`);
    if (isTag(tag)) {
      valid?.push(tag);
      continue;
    }
    valid ??= tags.slice(0, i) as string[];
    (bad ??= []).push(tag);
  }
  if (bad === undefined) return tags as string[];
  const kept = valid ?? [];
  const last = bad.length - 1;
  bad.forEach((tag, i) => {
    const gone = i === last && kept.length === 0 ? ", and the digest with it (no valid tag left)" : "";
    report.warn([...at, "dmap", digest], `tag ${JSON.stringify(tag)} is outside the OCI tag grammar; skipped${gone}`);
  });
  return kept;
}
