// One repository of one primary, the engine's unit of work: its subjects (the plan's digests and,
// through the ledger or the primary, the children of its indexes), the primary's state, the mirrors.
import type { RunContext } from "./context.ts";
import { checkMirrors } from "./mirrors.ts";
import { readPrimary } from "./primary.ts";
import { chunkPriority, withPriority } from "./priority.ts";
import { mergeSorted, noTags, type ReplicaGroup, type Work } from "./work.ts";

/** Indexes of indexes are followed this deep through what the ledger knows. */
const maxKnownDepth = 3;

/**
 * A repository's subjects are worked in chunks of growing size (1, 4, 16, then the rest), each
 * chunk's mirror work starting as soon as its primary state is known while the next chunk's is
 * read: on a cold run the mirrors get their first request after one subject's primary reads, not
 * after the whole repository's, and stay busy while the primary is read. Growing sizes keep the
 * per-chunk batching (tag listings) nearly as cheap as one batch per repository.
 */
const chunkSizes = [1, 4, 16];

export async function replicateRepository(ctx: RunContext, groups: readonly ReplicaGroup[], repositorySeq = 0): Promise<void> {
  const first = groups[0];
  if (first === undefined) return;
  const { primary, repository } = first;
  const works = new Map<string, Work>();
  /** The chunk being read: children found on the way join it. */
  let chunk = new Map<string, Work>();
  /** While the roots are gathered: the one being gathered (arrays, not a Map per plan digest). */
  let gathering: Work[] | undefined;
  const add = (digest: string, mirrors: readonly string[]): Work => {
    const existing = works.get(digest);
    if (existing !== undefined) {
      existing.mirrors = mergeSorted(existing.mirrors, mirrors);
      return existing;
    }
    const key = { primary, repository, digest };
    const known = ctx.ledger.subject(key);
    const w: Work = {
      key,
      mirrors,
      known,
      state: undefined,
      tags: noTags,
      referrers: known?.referrers ?? [],
      referrersRead: false,
      readFailed: false,
      jitter: undefined,
    };
    works.set(digest, w);
    if (gathering !== undefined) gathering.push(w);
    else chunk.set(digest, w);
    return w;
  };
  // Each plan digest with the children the ledger already knows (an index's children never change).
  const roots: Work[][] = [];
  for (const g of groups) {
    if (works.has(g.digest)) {
      add(g.digest, g.mirrors);
      continue;
    }
    const root: Work[] = (gathering = []);
    const top = add(g.digest, g.mirrors); // the plan's mirrors are sorted and distinct already
    roots.push(root);
    if ((ctx.ledger.children(top.key.digest)?.length ?? 0) === 0) continue;
    for (let depth = 0, frontier = [top]; depth < maxKnownDepth && frontier.length > 0; depth++) {
      const found: Work[] = [];
      for (const w of frontier) {
        for (const child of ctx.ledger.children(w.key.digest) ?? []) {
          if (!works.has(child)) found.push(add(child, w.mirrors));
          else add(child, w.mirrors);
        }
      }
      frontier = found;
    }
  }
  gathering = undefined;

  const mirrorWork: Promise<void>[] = [];
  for (let i = 0, at = 0; at < roots.length; i++) {
    const size = chunkSizes[i] ?? roots.length;
    chunk = new Map();
    for (const root of roots.slice(at, at + size)) for (const w of root) chunk.set(w.key.digest, w);
    at += size;
    const priority = chunkPriority(i, repositorySeq);
    await withPriority(priority, () => readPrimary(ctx, primary, repository, chunk, add));
    const ready = [...chunk.values()];
    for (const w of ready) {
      if (w.known !== undefined) ctx.live.set(w.known.id, w.mirrors);
      if (w.state === "unsigned") ctx.tally.unsigned++;
      if (w.state === "missing") ctx.tally.missingOnPrimary++;
    }
    // Once stopping, later chunks still pass through: their lookups end as "not reached", counted.
    mirrorWork.push(withPriority(priority, () => checkMirrors(ctx, primary, repository, ready)));
  }
  await Promise.all(mirrorWork);
}
