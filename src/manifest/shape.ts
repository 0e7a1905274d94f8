// Shape checks on failsafe YAML values: every scalar is a string, an empty value is "".
import type { YamlStep } from "./problem.ts";
import type { FileReport } from "./report.ts";

export type Mapping = Readonly<Record<string, unknown>>;

export function isMapping(value: unknown): value is Mapping {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A key's own value: js-yaml's mappings are plain objects, so `constructor` must not be inherited. */
export function field(map: Mapping, key: string): unknown {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** A value written as nothing (`key:`), `~` or `null`. */
export function isNull(value: unknown): boolean {
  return value === undefined || value === null || value === "" || value === "~" || value === "null";
}

export function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (isMapping(value)) return "a mapping";
  if (typeof value === "string") return `the text ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  return typeof value;
}

/** Unknown keys are fatal: a typo must not silently drop a registry or an image. */
export function checkFields(report: FileReport, steps: readonly YamlStep[], map: Mapping, allowed: readonly string[]): void {
  for (const key of Object.keys(map)) {
    if (!allowed.includes(key)) report.fail([...steps, key], `unknown field (expected ${allowed.join(", ")})`);
  }
}

export function requireMapping(report: FileReport, steps: readonly YamlStep[], value: unknown, what: string): Mapping {
  if (!isMapping(value)) report.fail(steps, `expected ${what} (a mapping), got ${describe(value)}`);
  return value;
}

export function requireList(report: FileReport, steps: readonly YamlStep[], value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) report.fail(steps, `expected ${what} (a list), got ${describe(value)}`);
  return value;
}

/** A required non-empty text field. */
export function requireText(report: FileReport, steps: readonly YamlStep[], map: Mapping, key: string): string {
  const value = field(map, key);
  if (value === undefined) report.fail(steps, `missing field ${key}`);
  if (typeof value !== "string") report.fail([...steps, key], `expected text, got ${describe(value)}`);
  if (value === "") report.fail([...steps, key], "empty");
  return value;
}
