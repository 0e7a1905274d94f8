// The primary's state of a repository's due subjects: is each digest there, is it an index (its
// children join the work), and which family tags it has. New children found on the way are read too.
import { familyTag, type Suffix } from "../cosign/tags.ts";
import type { RunContext } from "./context.ts";
import { primaryDue } from "./due.ts";
import { indexChildren } from "./oci.ts";
import { readPrimaryReferrers } from "./primary-referrers.ts";
import type { TagLookup, TagState } from "./repo-tags.ts";
import { noTags, type Work } from "./work.ts";

/** Index nesting followed when children are found (an index of indexes is rare; deeper is refused). */
const maxRounds = 4;

export async function readPrimary(
  ctx: RunContext,
  primary: string,
  repository: string,
  works: Map<string, Work>,
  add: (digest: string, mirrors: readonly string[]) => Work,
): Promise<void> {
  const { ledger, o } = ctx;
  const done = new Set<Work>();
  for (let round = 0; round < maxRounds; round++) {
    const now = ctx.nowSec();
    const due: Work[] = [];
    for (const w of works.values()) {
      if (done.has(w)) continue;
      done.add(w);
      const manifestRead = ledger.children(w.key.digest) !== undefined;
      if (primaryDue({ verb: o.verb, known: w.known, manifestRead, families: o.suffixes, referrers: o.referrers }, now, o.schedule)) due.push(w);
      else {
        w.state = w.known?.state;
        w.tags = w.known?.tags ?? noTags;
      }
    }
    if (due.length === 0) return;
    const present = await presentOnPrimary(ctx, primary, repository, due, add);
    const lookups: TagLookup[] = [];
    for (const w of present) {
      for (const s of o.suffixes) lookups.push({ tag: familyTag(w.key.digest, s), expectPresent: w.known?.tags.has(s) ?? false });
    }
    const [found] = await Promise.all([
      lookups.length === 0 ? new Map<string, TagState | Error>() : ctx.tags.resolve(primary, repository, lookups, false),
      readPrimaryReferrers(ctx, primary, repository, [...present]),
    ]);
    const checkedAt = ctx.nowSec();
    for (const w of due) {
      if (w.readFailed) continue;
      const tags = new Map<Suffix, string>();
      let failed = false;
      if (present.has(w)) {
        for (const s of o.suffixes) {
          const tag = familyTag(w.key.digest, s);
          const r = found.get(tag);
          if (r instanceof Error || r === undefined) {
            failed = true;
            ctx.fail({ host: primary, repository, tag }, undefined, r ?? new Error("not looked up"), "primary");
          } else if (r.present) tags.set(s, r.digest);
        }
      }
      if (failed) {
        w.readFailed = true;
        continue;
      }
      // Tags outside this run's family stay as the ledger had them.
      for (const [s, d] of w.known?.tags ?? []) if (!o.suffixes.includes(s)) tags.set(s, d);
      // Signed: a family tag, or a selected referrer (a Sigstore bundle, an attestation).
      const signed = tags.size > 0 || w.referrers.length > 0;
      ctx.settle(w, present.has(w) ? (signed ? "signed" : "unsigned") : "missing", tags, checkedAt);
    }
  }
}

/** Which due subjects the primary holds; a digest read for the first time is read whole (is it an index?): content addressed, once. */
async function presentOnPrimary(
  ctx: RunContext,
  primary: string,
  repository: string,
  due: readonly Work[],
  add: (digest: string, mirrors: readonly string[]) => Work,
): Promise<Set<Work>> {
  const present = new Set<Work>();
  await Promise.all(
    due.map(async (w) => {
      if (ctx.ledger.children(w.key.digest) !== undefined && w.known?.state !== "missing") {
        present.add(w);
        return;
      }
      try {
        const m = await ctx.queues.run(primary, () => ctx.port.getManifest(primary, repository, w.key.digest));
        if (m === undefined) return;
        present.add(w);
        const children = indexChildren(m.mediaType, m.bytes);
        ctx.ledger.putChildren(w.key.digest, children.length > 0, children);
        for (const child of children) add(child, w.mirrors);
      } catch (err) {
        w.readFailed = true;
        ctx.fail({ host: primary, repository, tag: w.key.digest }, undefined, err, "primary");
      }
    }),
  );
  return present;
}
