import { FAILSAFE_SCHEMA, loadAll, YAMLException } from "js-yaml";

/** What went wrong reading or parsing one file: already worded for the user. */
export interface FileFault {
  readonly line?: number;
  readonly message: string;
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
