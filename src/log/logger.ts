// Every line sigmirror writes to stderr while it works: `sigmirror: ...` for people, or one JSON
// object per line (--log-format json) for log search. Both pass through redact().
import { isSecretKey, masked, redact } from "../redact/redact.ts";

export type LogFormat = "text" | "json";
export type LogLevel = "info" | "warn" | "error";
export type LogValue = string | number | boolean | undefined;

/** The well-known fields come first in both formats; any other scalar may follow. */
export interface LogFields {
  host?: string;
  repository?: string;
  tag?: string;
  digest?: string;
  [key: string]: LogValue;
}

export interface Logger {
  readonly format: LogFormat;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  format: LogFormat;
  /** Receives whole lines, each ending in "\n" (so `ctx.err` fits). */
  write: (line: string) => void;
  now?: () => Date;
}

/** A JSON value a line may carry (the progress line nests its per-host rates). */
export type LineValue = string | number | boolean | undefined | readonly string[] | Readonly<Record<string, number>>;

const wellKnown = ["host", "repository", "tag", "digest"] as const;
const reserved = new Set(["level", "time", "message"]);

function cleanValue(key: string, value: LineValue): LineValue {
  if (typeof value === "string") return isSecretKey(key) ? masked : redact(value);
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map((v: string) => redact(v));
  return value;
}

/** Field entries in output order, secrets masked, undefined dropped. */
function orderedFields(fields: Readonly<Record<string, LineValue>>): [string, Exclude<LineValue, undefined>][] {
  const keys = [...wellKnown.filter((k) => k in fields), ...Object.keys(fields).filter((k) => !(wellKnown as readonly string[]).includes(k))];
  const out: [string, Exclude<LineValue, undefined>][] = [];
  for (const key of keys) {
    const value = cleanValue(key, fields[key]);
    if (value === undefined) continue;
    // A field may not overwrite the line's own members.
    out.push([reserved.has(key) ? `field_${key}` : key, value]);
  }
  return out;
}

// Control characters would break the one-line promise of the text format.
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? " " : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

function textValue(value: Exclude<LineValue, undefined>): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return /^[^\s"=\\]+$/.test(value) ? oneLine(value) : JSON.stringify(value);
  if (Array.isArray(value)) return value.length === 0 ? "-" : textValue(value.join(","));
  const entries = Object.entries(value as Readonly<Record<string, number>>);
  return entries.length === 0 ? "-" : textValue(entries.map(([k, v]) => `${k}:${v}`).join(","));
}

const textPrefix: Readonly<Record<LogLevel, string>> = { info: "", warn: "warning: ", error: "error: " };

/** One rendered line with its "\n"; shared by the logger and the progress line. */
export function renderLine(
  format: LogFormat,
  level: LogLevel,
  message: string,
  fields: Readonly<Record<string, LineValue>>,
  time: Date,
): string {
  const safeMessage = redact(message);
  const entries = orderedFields(fields);
  let line: string;
  if (format === "json") {
    const object: Record<string, unknown> = { level, time: time.toISOString(), message: safeMessage };
    for (const [k, v] of entries) object[k] = v;
    line = JSON.stringify(object);
  } else {
    const tail = entries.map(([k, v]) => ` ${k}=${textValue(v)}`).join("");
    line = `sigmirror: ${textPrefix[level]}${oneLine(safeMessage)}${tail}`;
  }
  return `${redact(line)}\n`;
}

export function createLogger(options: LoggerOptions): Logger {
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel) => (message: string, fields: LogFields = {}) =>
    options.write(renderLine(options.format, level, message, fields, now()));
  return { format: options.format, info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** Parses `--log-format`; undefined when not one of ours. */
export function parseLogFormat(text: string): LogFormat | undefined {
  return text === "text" || text === "json" ? text : undefined;
}
