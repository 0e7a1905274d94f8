// Which of a host's waiting requests goes next: earlier work first. A repository's first chunk
// before anyone's second, and among equals the repository started first, so the first subjects'
// primary reads finish in a few requests and the mirrors get work within moments of the start.
// The number is the registry client's request priority (AsyncLocalStorage, so no call site passes
// it along): the engine's host queues and the client's send slots go by the same one. Work outside
// any chunk waits behind every chunk's.
export { requestPriority as currentPriority, withRequestPriority as withPriority } from "../registry/priority.ts";

/** Chunk index first, then the order repositories were started in. */
export function chunkPriority(chunk: number, repositorySeq: number): number {
  return chunk * 1_000_000 + repositorySeq;
}
