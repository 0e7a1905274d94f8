// Every due (mirror, referrer) pair of a repository: a referrer is verified on a mirror when the
// mirror serves its manifest by digest and lists it (its referrers API, or its fallback index).
// Missing ones are copied digest-identically (blobs verified, manifest bytes unchanged, PUT by
// digest, never under a tag of their own). On a mirror without the API the fallback index is
// read, every entry already in it kept (another writer's too), the new descriptors added, written
// back right after that read, and read again to check it (distribution has no conditional PUT).
import { digestTag } from "../registry/digest.ts";
import { ociIndex } from "../registry/media-types.ts";
import type { RunContext, Where } from "./context.ts";
import { pairDue } from "./due.ts";
import { indexEntries, referrerDescriptor } from "./oci.ts";
import type { Referrer } from "./port.ts";
import { fallbackIndex, listReferrers } from "./primary-referrers.ts";
import type { Work, WorkReferrer } from "./work.ts";

interface Due {
  readonly w: Work;
  readonly r: WorkReferrer;
}

export async function checkMirrorReferrers(ctx: RunContext, primary: string, repository: string, works: readonly Work[]): Promise<void> {
  const now = ctx.nowSec();
  // mirror -> the digest referred to -> what is due there
  const byMirror = new Map<string, Map<string, Due[]>>();
  const slot = (mirror: string, of: string): Due[] => {
    let byOf = byMirror.get(mirror);
    if (byOf === undefined) byMirror.set(mirror, (byOf = new Map()));
    let list = byOf.get(of);
    if (list === undefined) byOf.set(of, (list = []));
    return list;
  };
  // verify --check-unsigned: every mirror's referrers of every subject are listed, to name those the primary lacks.
  const audit = ctx.o.verb === "verify" && ctx.o.checkUnsigned;
  for (const w of works) {
    if (audit && !w.readFailed && (w.state === "signed" || w.state === "unsigned")) for (const m of w.mirrors) slot(m, w.key.digest);
    if (w.readFailed || w.state !== "signed" || w.referrers.length === 0) continue;
    const verified = new Map((w.known === undefined ? [] : ctx.ledger.referrerPairsOf(w.known)).map((p) => [`${p.mirror}\n${p.digest}`, p]));
    for (const m of w.mirrors) {
      for (const r of w.referrers) {
        const p = verified.get(`${m}\n${r.digest}`);
        if (pairDue({ verb: ctx.o.verb, verified: p === undefined ? undefined : { digest: r.digest, dueAt: p.dueAt }, digest: r.digest }, now, ctx.o.schedule)) {
          slot(m, r.of).push({ w, r });
        }
      }
    }
  }
  // What the primary has referring to each digest, for naming a mirror's others (--check-unsigned).
  const primaryHas = new Map<string, Set<string>>();
  for (const w of works) {
    for (const r of w.referrers) {
      let set = primaryHas.get(r.of);
      if (set === undefined) primaryHas.set(r.of, (set = new Set()));
      set.add(r.digest);
    }
  }
  const none: ReadonlySet<string> = new Set();
  await Promise.all(
    [...byMirror].map(async ([mirror, byOf]) => {
      // The first answer says whether the mirror has the API: ask it alone, then the rest.
      const [first, ...rest] = [...byOf];
      if (first !== undefined) await settleOf(ctx, primary, mirror, repository, first[0], first[1], primaryHas.get(first[0]) ?? none);
      await Promise.all(rest.map(([of, due]) => settleOf(ctx, primary, mirror, repository, of, due, primaryHas.get(of) ?? none)));
    }),
  );
}

const whereOf = (mirror: string, repository: string, r: WorkReferrer): Where => ({ host: mirror, repository, tag: `referrer ${r.digest} of ${r.of}` });

async function settleOf(
  ctx: RunContext,
  primary: string,
  mirror: string,
  repository: string,
  of: string,
  due: readonly Due[],
  primaryHas: ReadonlySet<string>,
): Promise<void> {
  let listed: readonly Referrer[];
  try {
    listed = await listReferrers(ctx, mirror, repository, of);
  } catch (err) {
    for (const d of due) ctx.fail(whereOf(mirror, repository, d.r), d.r.digest, err);
    if (due.length === 0) ctx.fail({ host: mirror, repository, tag: `referrers of ${of}` }, undefined, err);
    return;
  }
  if (ctx.o.verb === "verify" && ctx.o.checkUnsigned) {
    // Not drift: another signer's referrers are theirs to keep. Listed so an audit sees them.
    for (const r of listed) {
      if (!primaryHas.has(r.digest)) ctx.event({ kind: "foreign-referrer", host: mirror, repository, digest: r.digest, of, reason: r.artifactType ?? "no artifactType" });
    }
  }
  const api = ctx.referrersVia.get(mirror) === "api";
  const have = new Set(listed.map((r) => r.digest));
  const missing: Due[] = [];
  const unlisted: Due[] = [];
  await Promise.all(
    due.map(async (d) => {
      const t = ctx.tally.host(mirror, "mirror");
      try {
        // Listed by the API: the registry holds it. Listed in a fallback index: an entry proves nothing
        // of the manifest itself, so it is read by digest.
        const served = api ? have.has(d.r.digest) : (await ctx.queues.run(mirror, () => ctx.port.headManifest(mirror, repository, d.r.digest))) !== undefined;
        t.referrersChecked++;
        if (served && have.has(d.r.digest)) {
          t.referrersThere++;
          ctx.verifiedReferrer(d.w, mirror, d.r.digest);
          return;
        }
        if (ctx.o.verb === "verify") {
          ctx.drift(whereOf(mirror, repository, d.r), d.r.digest, served ? "not listed on the mirror (its fallback index lacks it)" : "referrer missing on the mirror");
          return;
        }
        // With the API, listed is served: what is left is missing. Without, it may be either or both.
        if (!served) missing.push(d);
        if (!api) unlisted.push(d);
      } catch (err) {
        ctx.fail(whereOf(mirror, repository, d.r), d.r.digest, err);
      }
    }),
  );
  const copied = new Set<Due>();
  await Promise.all(
    missing.map(async (d) => {
      try {
        if (ctx.o.dryRun) ctx.event({ kind: "would-copy-referrer", host: mirror, repository, digest: d.r.digest, of, artifactType: d.r.artifactType });
        else {
          await ctx.queues.run(mirror, () => ctx.port.copy({ host: primary, repository }, { host: mirror, repository }, d.r.digest, d.r.digest));
          ctx.event({ kind: "referrer-copied", host: mirror, repository, digest: d.r.digest, of, artifactType: d.r.artifactType });
        }
        ctx.tally.host(mirror).referrersCopied++;
        copied.add(d);
        if (api) ctx.verifiedReferrer(d.w, mirror, d.r.digest);
      } catch (err) {
        ctx.fail(whereOf(mirror, repository, d.r), d.r.digest, err);
      }
    }),
  );
  if (api || unlisted.length === 0) return;
  // Only what the mirror now serves goes into its index (distribution refuses an entry it lacks).
  const toList = unlisted.filter((d) => !missing.includes(d) || copied.has(d));
  if (toList.length > 0) await updateFallbackIndex(ctx, primary, mirror, repository, of, toList);
}

/** Read, add, keep, write, read again. Nothing in the index is dropped but an entry whose manifest is gone. */
async function updateFallbackIndex(ctx: RunContext, primary: string, mirror: string, repository: string, of: string, add: readonly Due[]): Promise<void> {
  const tag = digestTag(of);
  try {
    // Read right before the write: a listing, or the read of a minute ago, never licenses it.
    const current = await ctx.queues.run(mirror, () => ctx.port.getManifest(mirror, repository, tag));
    const existing = current === undefined ? [] : indexEntries(current.bytes);
    const ours = new Set(add.map((d) => d.r.digest));
    const kept: Referrer[] = [];
    for (const e of existing) {
      if (ours.has(e.digest)) continue;
      // Another writer's entry stays, unless its manifest is gone (distribution would refuse the index).
      const there = (await ctx.queues.run(mirror, () => ctx.port.headManifest(mirror, repository, e.digest))) !== undefined;
      if (there) kept.push(e);
      else ctx.event({ kind: "index-entry-gone", host: mirror, repository, digest: e.digest, of, reason: `the fallback index ${tag} named ${e.digest}, which the mirror no longer serves: left out` });
    }
    const added = await Promise.all(add.map((d) => descriptorFor(ctx, primary, repository, d.r)));
    const entries = [...kept, ...existing.filter((e) => ours.has(e.digest)), ...added.filter((a) => !existing.some((e) => e.digest === a.digest))];
    if (ctx.o.dryRun) {
      ctx.event({ kind: "would-update-index", host: mirror, repository, tag, added: add.length, kept: kept.length });
      return;
    }
    const body = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: ociIndex, manifests: entries }));
    await ctx.queues.run(mirror, () => ctx.port.putManifest(mirror, repository, tag, body, ociIndex));
    ctx.event({ kind: "index-updated", host: mirror, repository, tag, added: add.length, kept: kept.length });
    // No conditional PUT on distribution: another writer may have raced us. What is listed now counts.
    const after = new Set((await fallbackIndex(ctx, mirror, repository, of)).map((e) => e.digest));
    for (const d of add) {
      if (after.has(d.r.digest)) ctx.verifiedReferrer(d.w, mirror, d.r.digest);
      else ctx.fail(whereOf(mirror, repository, d.r), d.r.digest, new Error(`the fallback index ${tag} lost this entry to a concurrent writer; repaired at the next due check`));
    }
    for (const k of kept) if (!after.has(k.digest)) ctx.fail({ host: mirror, repository, tag }, k.digest, new Error("an entry of another writer vanished from the fallback index"));
  } catch (err) {
    for (const d of add) ctx.fail(whereOf(mirror, repository, d.r), d.r.digest, err);
  }
}

/** The index entry for a referrer: as the primary listed it this run, else from its manifest. */
async function descriptorFor(ctx: RunContext, primary: string, repository: string, r: WorkReferrer): Promise<Referrer> {
  if (r.descriptor !== undefined) return r.descriptor;
  const m = await ctx.queues.run(primary, () => ctx.port.getManifest(primary, repository, r.digest));
  if (m === undefined) throw new Error(`the primary no longer serves referrer ${r.digest}`);
  return referrerDescriptor(r.digest, m.mediaType, m.bytes);
}
