import { readFileSync } from "node:fs";
import { FAILSAFE_SCHEMA, loadAll, YAMLException } from "js-yaml";

/** What went wrong reading or parsing one file: already worded for the user. */
export interface FileFault {
  readonly line?: number;
  readonly message: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The file's text, or why it cannot be had (missing, a directory, not UTF-8). */
export function readText(path: string): string | FileFault {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    return { message: readFault(err) };
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return { message: "cannot read: not UTF-8 text" };
  }
}

function readFault(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "cannot read: no such file";
    case "EISDIR":
      return "cannot read: is a directory, expected a file";
    case "EACCES":
      return "cannot read: permission denied";
    default:
      return `cannot read: ${code ?? (err instanceof Error ? err.message : String(err))}`;
  }
}

/** The parsed document, `undefined` for a file with no document (empty, or comments only). */
export interface Parsed {
  readonly doc: unknown;
}

/**
 * YAML with the failsafe schema: every scalar stays the string it was written as, so a tag
 * such as `1.20` is not turned into the number 1.2 (kpromo's Go decoder keeps the text too).
 * Duplicate keys and unknown tags are errors, as in kpromo's strict decoding.
 */
export function parseYaml(text: string, filename: string): Parsed | FileFault {
  let docs: unknown[];
  try {
    docs = loadAll(text, { schema: FAILSAFE_SCHEMA, filename, maxAliases: 1000 });
  } catch (err) {
    if (err instanceof YAMLException) {
      const line = err.mark?.line;
      return line === undefined ? { message: `YAML: ${err.reason}` } : { line: line + 1, message: `YAML: ${err.reason}` };
    }
    return { message: `YAML: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (docs.length > 1) return { message: `holds ${docs.length} YAML documents, expected one` };
  return { doc: docs[0] };
}

export function isFault(x: unknown): x is FileFault {
  return typeof x === "object" && x !== null && "message" in x && !("doc" in x);
}
