// Which of a host's waiting requests goes next: earlier work first. A repository's first chunk
// before anyone's second, and among equals the repository started first, so the first subjects'
// primary reads finish in a few requests and the mirrors get work within moments of the start.
// Carried by AsyncLocalStorage (Bun and Deno both have it), so no call site passes it along.
import { AsyncLocalStorage } from "node:async_hooks";

const current = new AsyncLocalStorage<number>();

/** Lower runs first. Work outside any chunk waits behind every chunk's. */
export function currentPriority(): number {
  return current.getStore() ?? Number.MAX_SAFE_INTEGER;
}

/** Runs `fn` (and everything it awaits) at priority `p`. */
export function withPriority<T>(p: number, fn: () => Promise<T>): Promise<T> {
  return current.run(p, fn);
}

/** Chunk index first, then the order repositories were started in. */
export function chunkPriority(chunk: number, repositorySeq: number): number {
  return chunk * 1_000_000 + repositorySeq;
}
