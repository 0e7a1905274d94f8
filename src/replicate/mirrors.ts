// Every due (mirror, tag) pair of a repository: looked up (batched per mirror), then settled by
// pairAction: verified, copied, replaced or reported. Nothing is written under a tag that was not
// read on that mirror in the same step.
import { familyTag, type Suffix } from "../cosign/tags.ts";
import type { RunContext, Where } from "./context.ts";
import { mirrorsSettled, pairDue } from "./due.ts";
import { checkMirrorReferrers } from "./mirror-referrers.ts";
import { overwriteDecision } from "./overwrite.ts";
import { pairAction, type Seen } from "./pair-action.ts";
import type { TagLookup, TagState } from "./repo-tags.ts";
import type { Work } from "./work.ts";

/** One pair to check: `digest` is the primary's, or undefined for a --check-unsigned look. */
interface Need extends TagLookup {
  readonly w: Work;
  readonly suffix: Suffix;
  readonly digest: string | undefined;
}

export async function checkMirrors(ctx: RunContext, primary: string, repository: string, works: readonly Work[]): Promise<void> {
  const { o } = ctx;
  const now = ctx.nowSec();
  const byMirror = new Map<string, Need[]>();
  const push = (m: string, n: Need) => {
    let list = byMirror.get(m);
    if (list === undefined) byMirror.set(m, (list = []));
    list.push(n);
  };
  const unsettled: Work[] = [];
  for (const w of works) {
    if (w.readFailed) continue;
    if (w.state === "signed") {
      const settled = { verb: o.verb, known: w.known, tags: w.tags, families: o.suffixes, mirrorSet: ctx.ledger.mirrorSet(w.mirrors), referrers: w.referrers };
      if (mirrorsSettled(settled, now, o.schedule)) continue;
      unsettled.push(w);
      const pairs = new Map((w.known === undefined ? [] : ctx.ledger.pairsOf(w.known)).map((p) => [`${p.mirror}\n${p.suffix}`, p]));
      for (const [suffix, digest] of w.tags) {
        if (!o.suffixes.includes(suffix)) continue;
        for (const m of w.mirrors) {
          const p = pairs.get(`${m}\n${suffix}`);
          if (pairDue({ verb: o.verb, verified: p, digest }, now, o.schedule)) {
            push(m, { w, suffix, tag: familyTag(w.key.digest, suffix), digest, expectPresent: p !== undefined });
          }
        }
      }
    } else if (w.state === "unsigned" && o.verb === "verify" && o.checkUnsigned) {
      for (const suffix of o.suffixes) {
        for (const m of w.mirrors) push(m, { w, suffix, tag: familyTag(w.key.digest, suffix), digest: undefined, expectPresent: false });
      }
    }
  }
  await Promise.all([
    ...[...byMirror].map(async ([mirror, needs]) => {
      const found = await ctx.tags.resolve(mirror, repository, needs, o.verb === "replicate");
      await Promise.all(needs.map((n) => settlePair(ctx, primary, mirror, repository, n, found.get(n.tag))));
    }),
    o.referrers.kind === "none" ? Promise.resolve() : checkMirrorReferrers(ctx, primary, repository, unsettled),
  ]);
}

async function settlePair(ctx: RunContext, primary: string, mirror: string, repository: string, n: Need, seen: TagState | Error | undefined): Promise<void> {
  const where: Where = { host: mirror, repository, tag: n.tag };
  if (seen === undefined || seen instanceof Error) {
    ctx.fail(where, n.digest, seen ?? new Error("not looked up"));
    return;
  }
  const t = ctx.tally.host(mirror, "mirror");
  t.checked++;
  ctx.tally.pairsChecked++;
  try {
    await act(ctx, primary, mirror, repository, n, seen);
  } catch (err) {
    ctx.fail(where, n.digest, err);
  }
}

async function act(ctx: RunContext, primary: string, mirror: string, repository: string, n: Need, seen: Seen): Promise<void> {
  const where: Where = { host: mirror, repository, tag: n.tag };
  const a = pairAction(ctx.o.verb, n.digest, seen);
  switch (a.kind) {
    case "nothing":
      return;
    case "unsigned-but-signed":
      ctx.drift(where, a.theirs, "the mirror holds a signature the primary lacks");
      return;
    case "verified":
      alreadyThere(ctx, mirror, n, seen.present ? seen.digest : "");
      return;
    case "missing":
      ctx.drift(where, n.digest ?? "", "missing on the mirror");
      return;
    case "read-first": {
      // A listing said absent; the write needs this mirror's own answer for this tag, now.
      const d = await ctx.queues.run(mirror, () => ctx.port.headManifest(mirror, repository, n.tag));
      const read: Seen = d === undefined ? { present: false, via: "read" } : { present: true, digest: d.digest, via: "read" };
      await act(ctx, primary, mirror, repository, n, read);
      return;
    }
    case "copy":
      await copy(ctx, primary, mirror, repository, n, n.digest ?? "", undefined);
      return;
    case "replace-or-conflict":
      await replaceOrConflict(ctx, primary, mirror, repository, n, a.theirs);
      return;
  }
}

function alreadyThere(ctx: RunContext, mirror: string, n: Need, digest: string): void {
  ctx.tally.host(mirror).alreadyThere++;
  ctx.tally.alreadyThere++;
  ctx.verified(n.w, mirror, n.suffix, digest);
}

/** The mirror holds the tag at another digest: both tags are read live, and the overwrite rule decides. */
async function replaceOrConflict(ctx: RunContext, primary: string, mirror: string, repository: string, n: Need, theirs: string): Promise<void> {
  const where: Where = { host: mirror, repository, tag: n.tag };
  // The signer may have moved the tag since we read it: the live primary decides.
  const live = await ctx.queues.run(primary, () => ctx.port.getManifest(primary, repository, n.tag));
  if (live === undefined) {
    ctx.fail(where, n.digest, new Error(`the primary no longer has ${n.tag}`));
    return;
  }
  if (live.digest !== n.digest) retag(ctx, n.w, n.suffix, live.digest);
  // Read by tag, not by the digest a listing named: what the mirror holds now is what is replaced.
  const mine = await ctx.queues.run(mirror, () => ctx.port.getManifest(mirror, repository, n.tag));
  const verify = ctx.o.verb === "verify";
  const d = overwriteDecision({
    primary: live,
    mirror: mine,
    force: !verify && ctx.o.forceOverwrite,
    overwritesSoFar: ctx.overwrites,
    maxOverwrites: verify ? Number.POSITIVE_INFINITY : ctx.o.maxOverwrites,
  });
  switch (d.kind) {
    case "same":
      alreadyThere(ctx, mirror, n, live.digest);
      return;
    case "absent":
      if (verify) ctx.drift(where, live.digest, "missing on the mirror");
      else await copy(ctx, primary, mirror, repository, n, live.digest, undefined);
      return;
    case "conflict":
      ctx.conflict(where, mine?.digest ?? theirs, d.reason);
      return;
    case "replace":
      if (verify) {
        ctx.drift(where, live.digest, `stale: the mirror holds ${mine?.digest ?? theirs}, which the primary's ${live.digest} supersedes`);
        return;
      }
      ctx.overwrites++;
      await copy(ctx, primary, mirror, repository, n, live.digest, mine?.digest ?? theirs);
      return;
  }
}

async function copy(ctx: RunContext, primary: string, mirror: string, repository: string, n: Need, digest: string, replacing: string | undefined): Promise<void> {
  const where: Where = { host: mirror, repository, tag: n.tag };
  const t = ctx.tally.host(mirror);
  if (ctx.o.dryRun) {
    if (replacing === undefined) ctx.event({ kind: "would-copy", ...where, digest });
    else ctx.event({ kind: "would-replace", ...where, digest, from: replacing });
  } else {
    await ctx.queues.run(mirror, () => ctx.port.copy({ host: primary, repository }, { host: mirror, repository }, n.tag, digest));
    if (replacing === undefined) ctx.event({ kind: "copied", ...where, digest });
    else ctx.event({ kind: "replaced", ...where, digest, from: replacing });
  }
  if (replacing === undefined) {
    t.copied++;
    ctx.tally.copied++;
  } else {
    t.replaced++;
    ctx.tally.replaced++;
    ctx.tally.replacedList.push({ ...where, from: replacing, to: digest });
  }
  ctx.verified(n.w, mirror, n.suffix, digest);
}

/** The primary's tag moved during the run: the subject's state follows it. */
function retag(ctx: RunContext, w: Work, suffix: Suffix, digest: string): void {
  if (w.tags.get(suffix) === digest) return;
  ctx.settle(w, "signed", new Map([...w.tags, [suffix, digest]]), ctx.nowSec());
}

