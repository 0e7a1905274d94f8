// Shows that a long run is alive: on a terminal one line rewritten in place (throttled); in a
// Prow log (no TTY) or with --log-format json, a plain line at a steady interval instead.
import { clearInterval, setInterval } from "node:timers";
import { renderLine, type LogFormat } from "./logger.ts";
import { redact } from "../redact/redact.ts";

export interface ProgressState {
  pairsDone: number;
  pairsDue: number;
  copies: number;
  /** Requests per second per host, as measured lately. */
  hostRates: Record<string, number>;
  pausedHosts: string[];
}

/** A repeating timer; the default is an unref'd setInterval, tests hand in one they tick by hand. */
export type Every = (ms: number, fn: () => void) => () => void;

export interface ProgressOptions {
  tty: boolean;
  /** Raw text, written as is: "\r" and clear-line sequences on a TTY, whole lines otherwise. */
  write: (text: string) => void;
  /** Interval of the plain line without a TTY (default 30 s). */
  intervalMs?: number;
  /** Least time between two redraws on a TTY (default 200 ms). */
  throttleMs?: number;
  /** Wall-clock milliseconds: elapsed time, throttling and the JSON time (default Date.now). */
  now?: () => number;
  /** "json" turns every plain line into a JSON object and disables the in-place line. */
  format?: LogFormat;
  /** Terminal width: the live line is cut to fit (default 120). */
  columns?: number;
  every?: Every;
}

export interface Progress {
  update(state: ProgressState): void;
  /** Writes a log line without tearing the live line: clear it, write, redraw. */
  writeAbove(text: string): void;
  /** Stops the timer and removes the live line; idempotent. */
  stop(): void;
}

export const defaultProgressIntervalMs = 30_000;
const clearLine = "\r\u001b[2K";

const defaultEvery: Every = (ms, fn) => {
  const timer = setInterval(fn, ms);
  // A progress line must never keep the process alive.
  timer.unref();
  return () => clearInterval(timer);
};

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

function rate(n: number): string {
  return n >= 10 ? n.toFixed(0) : n.toFixed(1);
}

/** The human line, without prefix; `maxHosts` limits the per-host list. */
export function describeProgress(state: ProgressState, elapsedMs: number, maxHosts = Number.POSITIVE_INFINITY): string {
  const rates = Object.entries(state.hostRates)
    .filter(([, r]) => r > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = rates.reduce((sum, [, r]) => sum + r, 0);
  const shown = rates.slice(0, maxHosts).map(([h, r]) => `${h} ${rate(r)}/s`);
  if (rates.length > shown.length) shown.push(`+${rates.length - shown.length} more`);
  const parts = [
    `${state.pairsDone}/${state.pairsDue} pairs`,
    `${state.copies} ${state.copies === 1 ? "copy" : "copies"}`,
    `${rate(total)} req/s${shown.length > 0 ? ` (${shown.join(", ")})` : ""}`,
  ];
  if (state.pausedHosts.length > 0) parts.push(`paused: ${state.pausedHosts.join(", ")}`);
  parts.push(formatElapsed(elapsedMs));
  return parts.join(" | ");
}

export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const format = options.format ?? "text";
  const live = options.tty && format === "text";
  const throttleMs = options.throttleMs ?? 200;
  const columns = Math.max(20, options.columns ?? 120);
  const every = options.every ?? defaultEvery;
  const started = now();

  let state: ProgressState | undefined;
  let drawn = false; // the live line is on screen
  let lastDraw = Number.NEGATIVE_INFINITY;
  let dirty = false;
  let stopped = false;

  const liveText = (s: ProgressState): string => {
    const line = `sigmirror: ${redact(describeProgress(s, now() - started, 3))}`;
    return line.length > columns - 1 ? `${line.slice(0, columns - 2)}…` : line;
  };

  const draw = () => {
    if (state === undefined || stopped) return;
    options.write(`${clearLine}${liveText(state)}`);
    drawn = true;
    dirty = false;
    lastDraw = now();
  };

  const plain = () => {
    if (state === undefined || stopped) return;
    const s = state;
    const elapsed = now() - started;
    const message = format === "json" ? "progress" : `progress: ${describeProgress(s, elapsed)}`;
    const fields =
      format === "json"
        ? {
            pairsDone: s.pairsDone,
            pairsDue: s.pairsDue,
            copies: s.copies,
            hostRates: s.hostRates,
            pausedHosts: s.pausedHosts,
            elapsedMs: elapsed,
          }
        : {};
    options.write(renderLine(format, "info", message, fields, new Date(now())));
  };

  // Live: redraw what update() throttled away (and the clock); plain: the steady line.
  const cancel = live
    ? every(throttleMs, () => {
        if (dirty || now() - lastDraw >= 1000) draw();
      })
    : every(options.intervalMs ?? defaultProgressIntervalMs, plain);

  return {
    update(next) {
      state = { ...next, hostRates: { ...next.hostRates }, pausedHosts: [...next.pausedHosts] };
      if (!live) return;
      dirty = true;
      if (now() - lastDraw >= throttleMs) draw();
    },
    writeAbove(text) {
      if (live && drawn) {
        options.write(`${clearLine}${text}`);
        draw();
      } else {
        options.write(text);
      }
    },
    stop() {
      if (stopped) return;
      cancel();
      if (live && drawn) options.write(clearLine);
      stopped = true;
      drawn = false;
    },
  };
}
