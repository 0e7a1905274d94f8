// The primary's OCI 1.1 referrers of due subjects, to depth 2, filtered by the run's selection.
// Whether a host answers the referrers API is learned from its first answer and kept for the run;
// on a host without it, the `sha256-<hex>` fallback tags are looked up in one batch (a complete tag
// listing proves which subjects have none, at no request of their own).
import { digestTag } from "../registry/digest.ts";
import type { RunContext } from "./context.ts";
import { indexEntries } from "./oci.ts";
import type { Referrer } from "./port.ts";
import { selects } from "./referrer-selection.ts";
import type { TagLookup } from "./repo-tags.ts";
import type { Work, WorkReferrer } from "./work.ts";

/** The referrers of `digest` on `host` (all of them: the API filters one type per request, so filter here). */
export async function listReferrers(ctx: RunContext, host: string, repository: string, digest: string): Promise<readonly Referrer[]> {
  // One probe per host: repositories worked at once wait for its answer rather than each asking
  // the API (and, on a host without it, paying a 404 each).
  const probe = ctx.referrersProbe.get(host);
  if (probe !== undefined && !ctx.referrersVia.has(host)) await probe;
  if (ctx.referrersVia.get(host) === "tag") return fallbackIndex(ctx, host, repository, digest);
  const call = ctx.queues.run(host, () => ctx.port.referrers(host, repository, digest));
  if (!ctx.referrersVia.has(host) && !ctx.referrersProbe.has(host)) {
    ctx.referrersProbe.set(
      host,
      call.then(
        () => undefined,
        () => undefined,
      ),
    );
  }
  const r = await call;
  ctx.referrersVia.set(host, r.via);
  return r.referrers;
}

/** The entries of the fallback tag's index; none when the tag is absent. */
export async function fallbackIndex(ctx: RunContext, host: string, repository: string, digest: string): Promise<readonly Referrer[]> {
  const m = await ctx.queues.run(host, () => ctx.port.getManifest(host, repository, digestTag(digest)));
  return m === undefined ? [] : indexEntries(m.bytes);
}

const selected = (ctx: RunContext, list: readonly Referrer[], of: string): WorkReferrer[] =>
  list.filter((r) => selects(ctx.o.referrers, r.artifactType ?? "")).map((r) => ({ digest: r.digest, of, artifactType: r.artifactType ?? "", descriptor: r }));

/** Sets each subject's `referrers` (read this run); a subject whose referrers cannot be read is failed. */
export async function readPrimaryReferrers(ctx: RunContext, primary: string, repository: string, subjects: readonly Work[]): Promise<void> {
  if (ctx.o.referrers.kind === "none" || subjects.length === 0) return;
  let rest = subjects;
  // The first answer says whether the host has the API; the rest then take the cheaper path.
  const first = subjects[0];
  if (first !== undefined && !ctx.referrersVia.has(primary)) {
    await readOne(ctx, primary, repository, first, undefined);
    rest = subjects.slice(1);
  }
  let known: Map<string, boolean> | undefined;
  if (ctx.referrersVia.get(primary) === "tag") known = await fallbackTagsPresent(ctx, primary, repository, rest);
  await Promise.all(rest.map((w) => readOne(ctx, primary, repository, w, known)));
}

/** Which subjects have a fallback tag at all: one batch (a listing where it is cheaper). */
async function fallbackTagsPresent(ctx: RunContext, host: string, repository: string, subjects: readonly Work[]): Promise<Map<string, boolean> | undefined> {
  if (subjects.length === 0) return undefined;
  const lookups: TagLookup[] = subjects.map((w) => ({ tag: digestTag(w.key.digest), expectPresent: w.referrers.length > 0, digestNeeded: false }));
  const found = await ctx.tags.resolve(host, repository, lookups, false);
  const out = new Map<string, boolean>();
  for (const [tag, r] of found) if (!(r instanceof Error)) out.set(tag, r.present);
  return out;
}

async function readOne(ctx: RunContext, primary: string, repository: string, w: Work, present: Map<string, boolean> | undefined): Promise<void> {
  try {
    const top = present?.get(digestTag(w.key.digest)) === false ? [] : await listReferrers(ctx, primary, repository, w.key.digest);
    const out = selected(ctx, top, w.key.digest);
    // Depth 2: referrers of a selected referrer (a signature of an attestation), the same filter.
    const second = await Promise.all(out.map(async (r) => selected(ctx, await listReferrers(ctx, primary, repository, r.digest), r.digest)));
    const seen = new Set<string>();
    w.referrers = [...out, ...second.flat()].filter((r) => !seen.has(r.digest) && seen.add(r.digest));
    w.referrersRead = true;
    w.expectedRef = undefined;
  } catch (err) {
    w.readFailed = true;
    ctx.fail({ host: primary, repository, tag: `referrers of ${w.key.digest}` }, undefined, err, "primary");
  }
}
