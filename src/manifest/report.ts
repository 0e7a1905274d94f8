import { Locator } from "./locate.ts";
import { fieldPath, type Problem, type YamlStep } from "./problem.ts";

/** Thrown to stop checking a file at its first fatal error: one line per bad file. */
export class FileAbandoned extends Error {
  override readonly name = "FileAbandoned";
}

interface Pending {
  readonly severity: "error" | "warning";
  readonly steps: readonly YamlStep[];
  readonly message: string;
  readonly line?: number;
}

/**
 * Collects the problems of one file. `display` is prepended to the steps when naming a field:
 * an images.yaml file is one list, shown as `images[3]` as in a plain manifest.
 */
export class FileReport {
  private readonly pending: Pending[] = [];

  constructor(
    readonly file: string,
    private readonly display: readonly YamlStep[] = [],
  ) {}

  get failed(): boolean {
    return this.pending.some((p) => p.severity === "error");
  }

  /** A fatal error at `steps`: recorded, then checking of this file stops. */
  fail(steps: readonly YamlStep[], message: string): never {
    this.pending.push({ severity: "error", steps, message });
    throw new FileAbandoned(message);
  }

  /** A fatal error about the whole file (unreadable, not YAML), with its line when known. */
  failFile(message: string, line?: number): never {
    this.pending.push(line === undefined ? { severity: "error", steps: [], message } : { severity: "error", steps: [], message, line });
    throw new FileAbandoned(message);
  }

  warn(steps: readonly YamlStep[], message: string): void {
    this.pending.push({ severity: "warning", steps, message });
  }

  /** The problems with their lines; the text is parsed for positions only if there is any. */
  problems(text: string | undefined): Problem[] {
    if (this.pending.length === 0) return [];
    const locator = text === undefined ? undefined : new Locator(text);
    return this.pending.map((p) => {
      const line = p.line ?? (p.steps.length > 0 ? locator?.line(p.steps) : undefined);
      const field = p.steps.length > 0 ? fieldPath([...this.display, ...p.steps]) : "";
      const base = { severity: p.severity, file: this.file, field, message: p.message };
      return line === undefined ? base : { ...base, line };
    });
  }
}
