// What is due this run: pure decisions over what the ledger knows and the clock. Times in epoch
// seconds. When each piece of knowledge falls due is schedule.ts's; whether it is due now is here.
import { covers, type ReferrerSelection } from "./referrer-selection.ts";
import type { ScheduleOptions } from "./schedule.ts";

/** Due when its time has come; a forced run (`--reverify-after 0s`) makes everything due. */
export function isDue(dueAt: number, now: number, o: ScheduleOptions): boolean {
  return o.force || dueAt <= now;
}

/** What the ledger holds of a subject's primary state, as far as the due decisions need it. */
export interface KnownPrimary {
  readonly dueAt: number;
  /** The tag families some run looked for on the primary. */
  readonly families: ReadonlySet<string>;
  /** The referrer selection last looked for; undefined: never (a subject from before referrers). */
  readonly referrersLooked: string | undefined;
  /** When a subject never looked at for referrers is first looked at (spread after an upgrade). */
  readonly referrersDue: number;
}

export interface PrimaryDueInput {
  readonly verb: "replicate" | "verify";
  readonly known: KnownPrimary | undefined;
  /** Whether the digest's manifest was ever read (an index's children are known then). */
  readonly manifestRead: boolean;
  /** The families this run looks for. */
  readonly families: readonly string[];
  /** The referrers this run looks for. */
  readonly referrers: ReferrerSelection;
}

/** Whether the primary's state of a subject must be read this run. */
export function primaryDue(i: PrimaryDueInput, now: number, o: ScheduleOptions): boolean {
  if (i.verb === "verify" || i.known === undefined || !i.manifestRead) return true;
  // A family no run looked for yet (--tag-suffixes widened): the ledger cannot say it is absent.
  for (const f of i.families) if (!i.known.families.has(f)) return true;
  if (i.referrers.kind !== "none") {
    const looked = i.known.referrersLooked;
    // Never looked (known from before referrers): at its spread first-look time, not all at once.
    if (looked === undefined ? i.known.referrersDue <= now : !covers(looked, i.referrers)) return true;
  }
  return isDue(i.known.dueAt, now, o);
}

export interface SettledInput {
  readonly verb: "replicate" | "verify";
  readonly known:
    | {
        readonly tags: ReadonlyMap<string, string>;
        readonly settledOn: number;
        readonly pairsDue: number;
        readonly referrers: readonly { readonly digest: string }[];
      }
    | undefined;
  /** The primary's tags as this run knows them (read now, or the ledger's when not due). */
  readonly tags: ReadonlyMap<string, string>;
  readonly families: readonly string[];
  /** The ledger's id of the subject's mirror set now (0: nothing was ever settled on it). */
  readonly mirrorSet: number;
  /** The primary's referrers as this run knows them (the ledger's own list when not re-read). */
  readonly referrers: readonly { readonly digest: string }[];
}

/** Nothing to ask any mirror: the primary's tags are the ledger's, and every pair is there and not due. */
export function mirrorsSettled(i: SettledInput, now: number, o: ScheduleOptions): boolean {
  const k = i.known;
  if (k === undefined || i.verb === "verify" || o.force) return false;
  // The ledger's own tags when the primary was not read: equal without reading them.
  if (i.tags !== k.tags) for (const f of i.families) if (i.tags.get(f) !== k.tags.get(f)) return false;
  if (k.settledOn === 0 || k.settledOn !== i.mirrorSet || isDue(k.pairsDue, now, o)) return false;
  // Settled on every one of the ledger's referrers: this run's must be among them.
  return i.referrers === k.referrers || i.referrers.every((r) => k.referrers.some((x) => x.digest === r.digest));
}

export interface PairDueInput {
  readonly verb: "replicate" | "verify";
  /** What the ledger says the mirror holds under this tag, when it says anything. */
  readonly verified: { readonly digest: string; readonly dueAt: number } | undefined;
  /** The primary's digest for the tag. */
  readonly digest: string;
}

/** Whether one (mirror, tag) pair must be checked on the mirror this run. */
export function pairDue(i: PairDueInput, now: number, o: ScheduleOptions): boolean {
  if (i.verb === "verify" || i.verified === undefined) return true;
  return i.verified.digest !== i.digest || isDue(i.verified.dueAt, now, o);
}
