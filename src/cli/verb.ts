import type { OptionSpecs, ParsedArgs } from "./args.ts";

/** What a verb may touch of the process; tests hand in their own. */
export interface RunContext {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT/SIGTERM: start nothing new, finish, commit, report. */
  readonly signal: AbortSignal;
}

export interface Verb {
  readonly name: string;
  /** One line for the verb list of `sigmirror --help`. */
  readonly summary: string;
  readonly usage: string;
  /** Paragraphs shown between usage and flags. */
  readonly description: string;
  readonly options: OptionSpecs;
  readonly allowPositionals?: boolean;
  /** Kept out of the verb's module graph until called, so `--help` loads nothing heavy. */
  readonly run: (args: ParsedArgs, ctx: RunContext) => Promise<number>;
}

export function formatOptions(options: OptionSpecs): string {
  const rows = Object.entries(options).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "";
    const value = spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : "";
    const left = `  ${short}--${name}${value}`;
    const notes = [spec.multiple ? "repeatable" : "", spec.default !== undefined ? `default ${spec.default}` : ""]
      .filter((s) => s !== "")
      .join("; ");
    return { left, right: notes === "" ? spec.help : `${spec.help} (${notes})` };
  });
  const width = Math.min(38, Math.max(...rows.map((r) => r.left.length)) + 2);
  return rows
    .map(({ left, right }) =>
      left.length + 2 > width ? `${left}\n${" ".repeat(width)}${right}` : `${left.padEnd(width)}${right}`,
    )
    .join("\n");
}
