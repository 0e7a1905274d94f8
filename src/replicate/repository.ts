// One repository of one primary, the engine's unit of work: its subjects (the plan's digests and,
// through the ledger or the primary, the children of its indexes), the primary's state, the mirrors.
import type { RunContext } from "./context.ts";
import { checkMirrors } from "./mirrors.ts";
import { readPrimary } from "./primary.ts";
import { mergeSorted, noTags, type ReplicaGroup, type Work } from "./work.ts";

/** Indexes of indexes are followed this deep through what the ledger knows. */
const maxKnownDepth = 3;

export async function replicateRepository(ctx: RunContext, groups: readonly ReplicaGroup[]): Promise<void> {
  const first = groups[0];
  if (first === undefined) return;
  const { primary, repository } = first;
  const works = new Map<string, Work>();
  const add = (digest: string, mirrors: readonly string[]): Work => {
    const existing = works.get(digest);
    if (existing !== undefined) {
      const merged = mergeSorted(existing.mirrors, mirrors);
      if (merged !== existing.mirrors) {
        existing.mirrors = merged;
        existing.expected = undefined;
      }
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
      expected: undefined,
      expectedRef: undefined,
    };
    works.set(digest, w);
    return w;
  };
  // The plan's mirrors are sorted and distinct already.
  for (const g of groups) add(g.digest, g.mirrors);
  // Children the ledger already knows (an index's children never change).
  for (let depth = 0, frontier = [...works.values()]; depth < maxKnownDepth && frontier.length > 0; depth++) {
    const found: Work[] = [];
    for (const w of frontier) {
      for (const child of ctx.ledger.children(w.key.digest) ?? []) {
        if (!works.has(child)) found.push(add(child, w.mirrors));
        else add(child, w.mirrors);
      }
    }
    frontier = found;
  }

  await readPrimary(ctx, primary, repository, works, add);
  for (const w of works.values()) {
    if (w.known !== undefined) ctx.live.set(w.known.id, { mirrors: w.mirrors, expectedKey: ctx.expectedKey(w), expectedRefKey: ctx.expectedRefKey(w) });
    if (w.state === "unsigned") ctx.tally.unsigned++;
    if (w.state === "missing") ctx.tally.missingOnPrimary++;
  }
  await checkMirrors(ctx, primary, repository, [...works.values()]);
}
