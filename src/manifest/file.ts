import type { Problem, YamlStep } from "./problem.ts";
import { FileAbandoned, FileReport } from "./report.ts";
import { readText } from "./text-file.ts";
import { parseYaml } from "./yaml.ts";

export interface FileCheck<T> {
  readonly file: string;
  /** Steps shown before every field path of this file (`images` for an images.yaml). */
  readonly display?: readonly YamlStep[];
  /** Added to a read failure, e.g. which manifest wanted this file. */
  readonly readContext?: string;
  /** Checks the parsed document (`undefined` when the file holds none). */
  readonly check: (doc: unknown, report: FileReport) => T;
  /** What `check` gives for this text when it has nothing to report; undefined: parse and check. */
  readonly scan?: (text: string) => T | undefined;
}

/** Reads, parses and checks one file; its problems go to `problems`; undefined if it failed. */
export function checkFile<T>(spec: FileCheck<T>, problems: Problem[]): T | undefined {
  const report: FileReport = new FileReport(spec.file, spec.display);
  let text: string | undefined;
  let result: T | undefined;
  try {
    const read = readText(spec.file);
    if (typeof read !== "string") {
      report.failFile(spec.readContext === undefined ? read.message : `${read.message} (${spec.readContext})`);
    }
    text = read;
    result = spec.scan?.(read) ?? parseAndCheck(spec, read, report);
  } catch (err) {
    if (!(err instanceof FileAbandoned)) throw err;
  }
  for (const p of report.problems(text)) problems.push(p);
  return report.failed ? undefined : result;
}

function parseAndCheck<T>(spec: FileCheck<T>, text: string, report: FileReport): T {
  const parsed = parseYaml(text, spec.file);
  if (!("doc" in parsed)) report.failFile(parsed.message, parsed.line);
  return spec.check(parsed.doc, report);
}
