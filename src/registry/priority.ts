// A request's priority: lower goes first when several wait for a host's next send slot (limiter.ts).
// Carried by AsyncLocalStorage (Bun and Deno both have it), so no verb passes it along: the caller
// runs its work under withRequestPriority, and every request that work sends, retries and token
// requests included, carries it.
import { AsyncLocalStorage } from "node:async_hooks";

const current = new AsyncLocalStorage<number>();

/** The calling work's priority; work run under none goes after all that has one. */
export function requestPriority(): number {
  return current.getStore() ?? Number.MAX_SAFE_INTEGER;
}

/** Runs `fn` (and everything it awaits) at priority `p`. */
export function withRequestPriority<T>(p: number, fn: () => Promise<T>): Promise<T> {
  return current.run(p, fn);
}
