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

/** One digest whose referrers are wanted; `expect`: the ledger says it had some (its fallback tag is read, not looked up). */
interface Want {
  readonly w: Work;
  readonly of: string;
  readonly expect: boolean;
}

/** Sets each subject's `referrers` (read this run), depth 1 then depth 2; a subject whose referrers cannot be read is failed. */
export async function readPrimaryReferrers(ctx: RunContext, primary: string, repository: string, subjects: readonly Work[]): Promise<void> {
  if (ctx.o.referrers.kind === "none" || subjects.length === 0) return;
  const hadOf = (w: Work, of: string) => (w.known?.referrers ?? []).some((r) => r.of === of);
  const first = await listAll(ctx, primary, repository, subjects.map((w) => ({ w, of: w.key.digest, expect: hadOf(w, w.key.digest) })));
  const top = new Map<Work, WorkReferrer[]>();
  for (const w of subjects) {
    const r = first.get(`${w.key.digest}\n${w.key.digest}`);
    if (r instanceof Error || r === undefined) fail(ctx, primary, repository, w, r ?? new Error("not looked up"));
    else top.set(w, selected(ctx, r, w.key.digest));
  }
  // Depth 2: referrers of a selected referrer (a signature of an attestation), the same filter.
  const wants = [...top].flatMap(([w, rs]) => rs.map((r) => ({ w, of: r.digest, expect: hadOf(w, r.digest) })));
  const second = await listAll(ctx, primary, repository, wants);
  for (const [w, rs] of top) {
    const out = [...rs];
    let failed: Error | undefined;
    for (const r of rs) {
      const more = second.get(`${w.key.digest}\n${r.digest}`);
      if (more instanceof Error || more === undefined) failed ??= more ?? new Error("not looked up");
      else out.push(...selected(ctx, more, r.digest));
    }
    if (failed !== undefined) {
      fail(ctx, primary, repository, w, failed);
      continue;
    }
    const seen = new Set<string>();
    w.referrers = out.filter((r) => !seen.has(r.digest) && seen.add(r.digest));
    w.referrersRead = true;
  }
}

function fail(ctx: RunContext, primary: string, repository: string, w: Work, err: unknown): void {
  if (w.readFailed) return;
  w.readFailed = true;
  ctx.fail({ host: primary, repository, tag: `referrers of ${w.key.digest}` }, undefined, err, "primary");
}

/**
 * The referrers of each wanted digest, keyed by subject and digest. The first answer on a host
 * says whether it has the API; on one without it, the fallback tags no ledger entry expects are
 * looked up in one batch first (a complete listing proves most absent, at no request of their own).
 */
async function listAll(ctx: RunContext, host: string, repository: string, wants: readonly Want[]): Promise<Map<string, readonly Referrer[] | Error>> {
  const out = new Map<string, readonly Referrer[] | Error>();
  const key = (x: Want) => `${x.w.key.digest}\n${x.of}`;
  const one = async (x: Want) => {
    try {
      out.set(key(x), await listReferrers(ctx, host, repository, x.of));
    } catch (err) {
      out.set(key(x), err instanceof Error ? err : new Error(String(err)));
    }
  };
  let rest = wants;
  const probe = wants[0];
  if (probe !== undefined && !ctx.referrersVia.has(host) && !ctx.referrersProbe.has(host)) {
    await one(probe);
    rest = wants.slice(1);
  }
  let absent = new Set<string>();
  if (ctx.referrersVia.get(host) === "tag" || ctx.referrersProbe.has(host)) {
    await ctx.referrersProbe.get(host);
    if (ctx.referrersVia.get(host) === "tag") absent = await fallbackTagsAbsent(ctx, host, repository, rest.filter((x) => !x.expect).map((x) => x.of));
  }
  await Promise.all(rest.map((x) => (absent.has(x.of) ? out.set(key(x), []) : one(x))));
  return out;
}

/** Which of these digests surely have no fallback tag: one batch, a listing where it saves requests. */
async function fallbackTagsAbsent(ctx: RunContext, host: string, repository: string, digests: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(digests)];
  // Alone, a lookup costs what reading the tag costs: read it.
  if (unique.length < 2) return new Set();
  const lookups: TagLookup[] = unique.map((d) => ({ tag: digestTag(d), expectPresent: false, digestNeeded: false }));
  const found = await ctx.tags.resolve(host, repository, lookups, false);
  return new Set(unique.filter((d) => {
    const r = found.get(digestTag(d));
    return r !== undefined && !(r instanceof Error) && !r.present;
  }));
}
