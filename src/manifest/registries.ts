import { parseRegistryName } from "./grammar.ts";
import type { YamlStep } from "./problem.ts";
import type { FileReport } from "./report.ts";
import { checkFields, describe, field, requireList, requireMapping, requireText } from "./shape.ts";
import type { Destination } from "./types.ts";

export interface Registries {
  readonly src: string;
  readonly destinations: readonly Destination[];
}

const registryFields = ["name", "src", "service-account"] as const;

/** YAML 1.2 core booleans, as kpromo's decoder reads `src`. */
function parseBool(value: unknown): boolean | undefined {
  if (typeof value !== "string") return undefined;
  if (value === "true" || value === "True" || value === "TRUE") return true;
  if (value === "false" || value === "False" || value === "FALSE") return false;
  return undefined;
}

/**
 * `registries`: exactly one `src` (any image reference, never replicated to or from), the rest
 * destinations `host[:port]/path`. A destination listed twice is a warning and counted once.
 */
export function checkRegistries(report: FileReport, steps: readonly YamlStep[], value: unknown): Registries {
  const list = requireList(report, steps, value, "the registries");
  if (list.length === 0) report.fail(steps, "empty; expected one src registry and the destinations");
  let src: { name: string; index: number } | undefined;
  const destinations: Destination[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, index) => {
    const at = [...steps, index];
    const map = requireMapping(report, at, item, "a registry");
    checkFields(report, at, map, registryFields);
    const name = requireText(report, at, map, "name");
    const srcValue = field(map, "src");
    const isSrc = srcValue === undefined ? false : parseBool(srcValue);
    if (isSrc === undefined) report.fail([...at, "src"], `expected true or false, got ${describe(srcValue)}`);
    const account = field(map, "service-account");
    if (account !== undefined && typeof account !== "string") {
      report.fail([...at, "service-account"], `expected text, got ${describe(account)}`);
    }
    if (isSrc) {
      if (src !== undefined) report.fail([...at, "src"], `a second src registry (the first is registries[${src.index}]); exactly one is allowed`);
      src = { name, index };
      return;
    }
    const parsed = parseRegistryName(name);
    if (typeof parsed === "string") report.fail([...at, "name"], `${JSON.stringify(name)}: ${parsed}`);
    const first = seen.get(name);
    if (first !== undefined) {
      report.warn([...at, "name"], `${JSON.stringify(name)} listed twice (first at registries[${first}]); counted once`);
      return;
    }
    seen.set(name, index);
    destinations.push({ name, host: parsed.host, path: parsed.path });
  });
  if (src === undefined) report.fail(steps, "no src registry; exactly one needs src: true");
  return { src: src.name, destinations };
}
