import { parseArgs } from "node:util";
import { UsageError } from "./exit.ts";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  /** Placeholder shown in help, e.g. `DIR`. */
  readonly value?: string;
  readonly help: string;
  /** Default as shown in help; parsing the default is the verb's business. */
  readonly default?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export type OptionValue = string | boolean | string[] | boolean[] | undefined;

export class ParsedArgs {
  constructor(
    readonly verb: string,
    readonly values: Readonly<Record<string, OptionValue>>,
    readonly positionals: readonly string[],
  ) {}

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined {
    const v = this.values[name];
    if (v === undefined || typeof v === "string") return v;
    if (Array.isArray(v)) {
      const last = v[v.length - 1];
      return typeof last === "string" ? last : undefined;
    }
    return undefined;
  }

  list(name: string): string[] {
    const v = this.values[name];
    if (v === undefined) return [];
    if (typeof v === "string") return [v];
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
    return [];
  }

  /** A usage error naming this verb's flag. */
  bad(name: string, expected: string, got?: string): UsageError {
    const shown = got === undefined ? "" : ` (got ${JSON.stringify(got)})`;
    return new UsageError(`${this.verb}: --${name}: expected ${expected}${shown}`, this.verb);
  }
}

interface NodeParseError {
  code?: unknown;
  message: string;
}

/** Strict parseArgs whose errors become one line naming the flag; `hintVerb` picks the `--help` hint. */
export function parse(
  verb: string,
  argv: readonly string[],
  options: OptionSpecs,
  allowPositionals: boolean,
): ParsedArgs {
  const config: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(options)) {
    config[name] = {
      type: spec.type,
      ...(spec.multiple ? { multiple: true } : {}),
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: config,
      strict: true,
      allowPositionals,
    });
    return new ParsedArgs(verb, values as Record<string, OptionValue>, positionals);
  } catch (err) {
    throw translateParseError(verb, err as NodeParseError, options);
  }
}

function translateParseError(verb: string, err: NodeParseError, options: OptionSpecs): UsageError {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? "";
  const flag = quoted.split(" ")[0] ?? quoted;
  const name = flag.replace(/^-+/, "");
  const prefix = verb === "" ? "" : `${verb}: `;
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new UsageError(`${prefix}unknown flag ${flag}`, verb);
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const spec = options[name];
      if (spec?.type === "boolean") return new UsageError(`${prefix}${flag} takes no value`, verb);
      return new UsageError(`${prefix}${flag}: missing value, expected ${spec?.value ?? "a value"}`, verb);
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new UsageError(`${prefix}unexpected argument ${JSON.stringify(quoted)}`, verb);
    default:
      return new UsageError(`${prefix}${err.message}`, verb);
  }
}

const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest duration any flag (or SIGMIRROR_TEST_CLOCK_OFFSET) takes: a year is more than any schedule needs. */
export const maxDurationText = "365d";
export const maxDurationMs = 365 * 86_400_000;

/** The duration's milliseconds, unbounded; undefined when malformed. */
function durationMs(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * (durationUnits[m[2] ?? ""] ?? Number.NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : Number.POSITIVE_INFINITY;
}

/** Parses `90s`, `2h30m`, `500ms`, `0s` into milliseconds; undefined when malformed or over `maxDurationText`. */
export function parseDuration(text: string): number | undefined {
  const ms = durationMs(text);
  return ms !== undefined && ms <= maxDurationMs ? ms : undefined;
}

/** What a refused duration should have been, for its error line; `example` as in "a duration such as 30m". */
export function durationExpected(text: string, example: string): string {
  const ms = durationMs(text);
  return ms !== undefined && ms > maxDurationMs ? `a duration of at most ${maxDurationText}` : `a duration such as ${example}`;
}

/** A whole number in [min, max]; undefined when malformed or out of range. */
export function parseInteger(text: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** A positive finite decimal such as a rate (`50`, `0.5`). */
export function parsePositive(text: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && Number.isFinite(n) ? n : undefined;
}

/** Splits `HOST=VALUE`; the host keeps its port. */
export function splitHostValue(text: string): { host: string; value: string } | undefined {
  const i = text.lastIndexOf("=");
  if (i <= 0 || i === text.length - 1) return undefined;
  return { host: text.slice(0, i), value: text.slice(i + 1) };
}

export function durationOption(args: ParsedArgs, name: string, fallback: string): number {
  const text = args.string(name) ?? fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw args.bad(name, durationExpected(text, "30s, 15m, 2h or 1h30m"), text);
  return ms;
}

export function integerOption(args: ParsedArgs, name: string, fallback: number, min: number, max?: number): number {
  const text = args.string(name);
  if (text === undefined) return fallback;
  const n = parseInteger(text, min, max);
  if (n === undefined) {
    const range = max === undefined ? `>= ${min}` : `${min}..${max}`;
    throw args.bad(name, `a whole number ${range}`, text);
  }
  return n;
}
