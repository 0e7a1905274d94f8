// A line scan of an images.yaml written the way kpromo writes it, for speed and memory: js-yaml
// builds a document of every digest (~100 MB of garbage at twice registry.k8s.io's size) that is
// thrown away once the images are checked. The scan accepts only lines of a few fixed shapes whose
// every value is already valid (names, digests, tags); anything else, a warning to give, an error
// to report, or any YAML it does not know, returns undefined and the file goes through js-yaml.
import { isRepositoryPath } from "./grammar.ts";
import type { ImageEntry } from "./types.ts";

/** Printable ASCII and newlines: no tab, CR, BOM, control or non-ASCII character to think about. */
const unusual = /[^\x20-\x7e\n]/;
/** One blank or comment line; a `#` opens a comment at the line's start or after a space. */
const blankOrComment = / *(?:#[^\n]*)?(?:\n|$)/y;
/** `- name: <image>` at column 0, a plain scalar, checked against the name grammar after. */
const nameLine = /- name: +([a-z0-9][a-z0-9._/-]*)(?: +#[^\n]*| *)(?:\n|$)/y;
const dmapLine = / {2}dmap:(?: +#[^\n]*| *)(?:\n|$)/y;
/** A tag as the OCI grammar has it; being also a YAML plain scalar in a flow, it may go unquoted. */
const tag = "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}";
const itemPattern = `(?:"${tag}"|'${tag}'|${tag})`;
/**
 * `    "sha256:<hex>": ["<tag>", ...]` on one line, the key quoted, the digest already valid. Only
 * tested: the parts are cut out by position, so a line leaves no match array behind.
 */
const digestLine = new RegExp(
  ` {3,}(?:"sha256:[0-9a-f]{64}"|'sha256:[0-9a-f]{64}'): +\\[ *${itemPattern}(?: *, *${itemPattern})* *\\](?: +#[^\\n]*| *)(?:\\n|$)`,
  "y",
);
const digestLength = "sha256:".length + 64;

function match(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}

/** Single-tag lists by their tag: nearly every digest has one tag, and many digests the same. */
export type TagLists = Map<string, readonly string[]>;

/**
 * The tags of a flow list the digest line's pattern has checked: between `[` and `]`, comma-separated,
 * maybe quoted. A list of one tag is the shared one from `shared`: the lists are never changed.
 */
function tagsOf(text: string, from: number, to: number, shared: TagLists): readonly string[] {
  const tags: string[] = [];
  let at = from;
  while (at < to) {
    let end = at;
    while (end < to && text.charCodeAt(end) !== 0x2c /* , */) end++;
    const tag = item(text, at, end);
    if (end === to && tags.length === 0) return sharedList(tag, shared);
    tags.push(tag);
    at = end + 1;
  }
  return tags;
}

/** One item of a checked flow list, its spaces and quotes taken off. */
function item(text: string, from: number, to: number): string {
  let a = from;
  let b = to;
  while (text.charCodeAt(a) === 0x20) a++;
  while (text.charCodeAt(b - 1) === 0x20) b--;
  const q = text.charCodeAt(a);
  return q === 0x22 || q === 0x27 ? text.slice(a + 1, b - 1) : text.slice(a, b);
}

function sharedList(tag: string, shared: TagLists): readonly string[] {
  const known = shared.get(tag);
  if (known !== undefined) return known;
  const list = Object.freeze([tag]);
  shared.set(tag, list);
  return list;
}

/**
 * The images of an images.yaml, exactly as checkImages gives them from js-yaml's document, when
 * every line is of a shape the scan knows and nothing in it is to be warned about; undefined
 * otherwise (the caller parses the file with js-yaml, which words every problem).
 */
export function scanImages(text: string, shared: TagLists = new Map()): ImageEntry[] | undefined {
  if (unusual.test(text)) return undefined;
  const byName = new Map<string, Map<string, readonly string[]>>();
  /**
   * A digest twice in one mapping is a YAML error. An entry whose name is new finds its own
   * digests in `digests`; only one that repeats a name keeps them apart, here.
   */
  const inEntry = new Set<string>();
  let repeated = false;
  /** Digest lines of the current entry. */
  let lines = 0;
  let digests: Map<string, readonly string[]> | undefined;
  /** 0: before the first entry or after a complete one; 1: after `- name:`; 2: in its dmap. */
  let state = 0;
  let indent = 0;
  let at = 0;
  while (at < text.length) {
    const c = text.charCodeAt(at);
    if (c === 0x2d /* - */) {
      if (state === 1 || (state === 2 && lines === 0)) return undefined;
      const m = match(nameLine, text, at);
      if (m === null) return undefined;
      const name = m[1] as string;
      if (!isRepositoryPath(name)) return undefined;
      digests = byName.get(name);
      repeated = digests !== undefined;
      if (digests === undefined) {
        digests = new Map();
        byName.set(name, digests);
      }
      inEntry.clear();
      lines = 0;
      state = 1;
      at = nameLine.lastIndex;
      continue;
    }
    if (state === 2 && digests !== undefined) {
      digestLine.lastIndex = at;
      if (digestLine.test(text)) {
        let key = at;
        while (text.charCodeAt(key) === 0x20) key++;
        if (lines++ === 0) indent = key - at;
        else if (key - at !== indent) return undefined;
        const digest = text.slice(key + 1, key + 1 + digestLength);
        if (repeated ? inEntry.has(digest) : digests.has(digest)) return undefined;
        if (repeated) inEntry.add(digest);
        const open = text.indexOf("[", key + digestLength + 2);
        const tags = tagsOf(text, open + 1, text.indexOf("]", open), shared);
        const known = digests.get(digest);
        if (known === undefined) digests.set(digest, tags);
        else {
          // An image listed twice: its tags appended to a copy, as checkImages appends them.
          let merged: string[] | undefined;
          for (const t of tags) if (!(merged ?? known).includes(t)) (merged ??= [...known]).push(t);
          if (merged !== undefined) digests.set(digest, merged);
        }
        at = digestLine.lastIndex;
        continue;
      }
    }
    if (state === 1 && match(dmapLine, text, at) !== null) {
      state = 2;
      at = dmapLine.lastIndex;
      continue;
    }
    if (match(blankOrComment, text, at) === null) return undefined;
    at = blankOrComment.lastIndex;
  }
  // An entry without dmap, or with an empty one, is for js-yaml and checkImages to judge.
  if (state === 1 || (state === 2 && lines === 0)) return undefined;
  return [...byName].map(([name, d]) => ({ name, digests: d }));
}
