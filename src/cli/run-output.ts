// What a run prints while it goes: each engine event as a log line, stderr as JSON lines when
// asked, and the progress line fed from the engine's tally and the client's counters.
import { isatty } from "node:tty";
import { createLogger, type LogFields, type LogFormat, type Logger } from "../log/logger.ts";
import { createProgress } from "../log/progress.ts";
import type { RegistryClient } from "../registry/client.ts";
import type { Engine, EngineEvent } from "../replicate/engine.ts";
import type { RunContext } from "./verb.ts";

/** Text lines say it all in words; JSON lines carry the fields for log search too. */
export function logEvent(log: Logger, e: EngineEvent): void {
  const f = (fields: LogFields): LogFields | undefined => (log.format === "json" ? fields : undefined);
  switch (e.kind) {
    case "copied":
    case "would-copy":
      log.info(`${e.kind === "copied" ? "copied" : "would copy"} ${e.repository}:${e.tag} to ${e.host} (${e.digest})`, f(e));
      return;
    case "replaced":
    case "would-replace":
      log.info(`${e.kind === "replaced" ? "replaced" : "would replace"} ${e.host}/${e.repository}:${e.tag} ${e.from} with ${e.digest}`, f(e));
      return;
    case "conflict":
      log.warn(`conflict: ${e.host}/${e.repository}:${e.tag}: ${e.reason}`, f(e));
      return;
    case "drift":
      log.warn(`drift: ${e.host}/${e.repository}:${e.tag}: ${e.reason}`, f(e));
      return;
    case "failed":
      log.error(`failed: ${e.host}/${e.repository}:${e.tag}: ${e.reason}`, f(e));
      return;
    case "referrer-copied":
    case "would-copy-referrer":
      log.info(`${e.kind === "referrer-copied" ? "copied" : "would copy"} referrer ${e.repository}@${e.digest} (${e.artifactType}) of ${e.of} to ${e.host}`, f(e));
      return;
    case "index-updated":
    case "would-update-index":
      log.info(`${e.kind === "index-updated" ? "updated" : "would update"} the fallback index ${e.host}/${e.repository}:${e.tag}: ${e.added} added, ${e.kept} of other writers kept`, f(e));
      return;
    case "foreign-referrer":
      log.info(`${e.host}/${e.repository}@${e.digest}: a referrer of ${e.of} the primary lacks (${e.reason}); left alone`, f(e));
      return;
    case "index-entry-gone":
      log.warn(`${e.host}/${e.repository}: ${e.reason}`, f(e));
      return;
    case "given-up":
      log.error(`giving up on ${e.host} for this run: ${e.reason}`, f({ host: e.host }));
      return;
  }
}

/**
 * With --log-format json every stderr line is a JSON object, also the lines of code that writes
 * plain `sigmirror: ...` text (manifest warnings, ledger notes): those are wrapped here.
 */
export function loggingContext(ctx: RunContext, format: LogFormat): { ctx: RunContext; log: Logger } {
  const log = createLogger({ format, write: ctx.err });
  if (format === "text") return { ctx, log };
  const err = (text: string) => {
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const message = line.replace(/^sigmirror: /, "");
      if (/^warning: /.test(message)) log.warn(message.replace(/^warning: /, ""));
      else log.info(message);
    }
  };
  return { ctx: { ...ctx, err }, log };
}

/** The progress line, fed once a second from the engine's tally and the client's counters. */
export function showProgress(ctx: RunContext, format: LogFormat, client: RegistryClient, engine: Engine, pairsInScope: number): () => void {
  const progress = createProgress({ tty: isatty(2), write: ctx.err, format });
  let last = new Map(client.stats().map((h) => [h.host, h]));
  let lastAt = Date.now();
  const ticker = setInterval(() => {
    const stats = client.stats();
    const at = Date.now();
    const hostRates: Record<string, number> = {};
    const pausedHosts: string[] = [];
    for (const h of stats) {
      const before = last.get(h.host);
      hostRates[h.host] = Math.round(((h.requests - (before?.requests ?? 0)) * 1000) / Math.max(1, at - lastAt));
      if (h.pausedMs > (before?.pausedMs ?? 0)) pausedHosts.push(h.host);
    }
    last = new Map(stats.map((h) => [h.host, h]));
    lastAt = at;
    const t = engine.tally;
    progress.update({ pairsDone: t.pairsChecked, pairsDue: pairsInScope, copies: t.copied + t.replaced, hostRates, pausedHosts });
  }, 1000);
  ticker.unref?.();
  return () => {
    clearInterval(ticker);
    progress.stop();
  };
}
