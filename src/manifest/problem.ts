/** A step into a YAML document: a mapping key or a sequence index. */
export type YamlStep = string | number;

/** Something wrong in one manifest file, as reported to the user. */
export interface Problem {
  readonly severity: "error" | "warning";
  /** The file as the user named it (joined to the directory they gave). */
  readonly file: string;
  /** 1-based; absent when the place is unknown or the whole file is at fault. */
  readonly line?: number;
  /** Where in the document, e.g. `images[3].dmap "sha256:ab.."`; empty for the whole file. */
  readonly field: string;
  /** What is wrong, with the offending value. */
  readonly message: string;
}

/** `sigmirror: <path>[:<line>]: <field path>: <what is wrong>` */
export function formatProblem(p: Problem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return p.field === "" ? `sigmirror: ${where}: ${p.message}` : `sigmirror: ${where}: ${p.field}: ${p.message}`;
}

/** The field names of kpromo's manifests; any other key (a digest, a typo) is shown quoted. */
const fieldNames: ReadonlySet<string> = new Set(["registries", "images", "imagesPath", "name", "src", "service-account", "dmap"]);

/** `images[3].dmap "sha256:.."` from the steps into a document. */
export function fieldPath(steps: readonly YamlStep[]): string {
  let out = "";
  for (const step of steps) {
    if (typeof step === "number") out += `[${step}]`;
    else if (fieldNames.has(step)) out += out === "" ? step : `.${step}`;
    else out += out === "" ? JSON.stringify(step) : ` ${JSON.stringify(step)}`;
  }
  return out;
}
