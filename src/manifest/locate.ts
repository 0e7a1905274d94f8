// Line numbers for problems. js-yaml's loader gives no node positions, so a file with a
// problem is parsed a second time into events (offsets into the text); clean files never are.
import { EVENT_ID, getScalarValue, parseEvents, type Event } from "js-yaml";
import type { YamlStep } from "./problem.ts";

/** Locates nodes of one document by their steps; built only for files that have problems. */
export class Locator {
  private readonly events: Event[];
  private lineStarts: number[] | undefined;

  constructor(private readonly text: string) {
    try {
      this.events = parseEvents(text, {});
    } catch {
      this.events = [];
    }
  }

  /**
   * 1-based line of the node at `steps` (a mapping key's own line when the last step is a key),
   * or of the deepest node on the way when the rest cannot be followed.
   */
  line(steps: readonly YamlStep[]): number | undefined {
    const first = this.events[0]?.type === EVENT_ID.DOCUMENT ? 1 : 0;
    if (this.events[first] === undefined) return undefined;
    const offset = this.find(first, steps, 0);
    return offset === undefined ? undefined : this.lineOf(offset);
  }

  private find(at: number, steps: readonly YamlStep[], k: number): number | undefined {
    const here = this.offset(at);
    if (k === steps.length) return here;
    const event = this.events[at];
    const step = steps[k];
    if (event === undefined || step === undefined) return here;
    if (event.type === EVENT_ID.SEQUENCE && typeof step === "number") {
      let child = at + 1;
      for (let index = 0; this.events[child] !== undefined && this.events[child]?.type !== EVENT_ID.POP; index++) {
        if (index === step) return this.find(child, steps, k + 1) ?? here;
        child = this.skip(child);
      }
      return here;
    }
    if (event.type === EVENT_ID.MAPPING && typeof step === "string") {
      let key = at + 1;
      while (this.events[key] !== undefined && this.events[key]?.type !== EVENT_ID.POP) {
        const value = this.skip(key);
        const keyEvent = this.events[key];
        if (keyEvent?.type === EVENT_ID.SCALAR && getScalarValue(this.text, keyEvent) === step) {
          return k + 1 === steps.length ? this.offset(key) : (this.find(value, steps, k + 1) ?? this.offset(key));
        }
        key = this.skip(value);
      }
    }
    return here;
  }

  /** The index just past the node starting at `at`. */
  private skip(at: number): number {
    const event = this.events[at];
    if (event === undefined) return at;
    if (event.type !== EVENT_ID.SEQUENCE && event.type !== EVENT_ID.MAPPING) return at + 1;
    let child = at + 1;
    while (this.events[child] !== undefined && this.events[child]?.type !== EVENT_ID.POP) child = this.skip(child);
    return child + 1;
  }

  private offset(at: number): number | undefined {
    const event = this.events[at];
    switch (event?.type) {
      case EVENT_ID.SCALAR:
        return event.anchorStart >= 0 ? event.anchorStart : event.tagStart >= 0 ? event.tagStart : event.valueStart;
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING:
        return event.start;
      case EVENT_ID.ALIAS:
        return event.anchorStart;
      default:
        return undefined;
    }
  }

  private lineOf(offset: number): number {
    if (this.lineStarts === undefined) {
      const starts = [0];
      for (let i = this.text.indexOf("\n"); i >= 0; i = this.text.indexOf("\n", i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}
