// When each piece of knowledge in the ledger falls due to be checked again (whether it is due now
// is due.ts's). Pure: times in epoch seconds.

export interface ScheduleOptions {
  /** Verified pairs and a signed digest's primary state are re-read after this long. */
  readonly reverifyAfterS: number;
  /** A signature first seen less than this long ago is re-read on the primary every run. */
  readonly settleS: number;
  /** Cap of the backoff for digests that are unsigned or not on the primary yet. */
  readonly unsignedRecheckMaxS: number;
  /** Jitter only brings a due time earlier, by at most this fraction of the window. */
  readonly jitterFraction: number;
  /**
   * `--reverify-after 0s`: check everything now. What is verified then gets the default window,
   * so one forced run does not make the next periodic run a full one too.
   */
  readonly force: boolean;
}

export const defaultSchedule: ScheduleOptions = {
  reverifyAfterS: 24 * 3600,
  settleS: 2 * 3600,
  unsignedRecheckMaxS: 24 * 3600,
  jitterFraction: 0.1,
  force: false,
};

/**
 * Spreads due times so that runs take similar slices whatever their cadence. `random` in [0, 1).
 * Whole minutes: finer adds nothing at a 30-minute cadence, and a stored ledger compresses better.
 */
export function jitteredDue(verifiedAt: number, windowS: number, jitterFraction: number, random: number): number {
  return Math.floor((verifiedAt + windowS - windowS * jitterFraction * random) / 60) * 60;
}

/** Due time of a verified pair. */
export function pairDueAt(verifiedAt: number, o: ScheduleOptions, random: number): number {
  return jitteredDue(verifiedAt, o.reverifyAfterS, o.jitterFraction, random);
}

/**
 * Due time of the primary's state of a subject just read at `checkedAt`.
 * - signed and young (signature first seen less than settle ago): every run, the signer may still append;
 * - signed: after the re-verify window (jittered);
 * - unsigned, or not on the primary yet: a backoff growing with the digest's age, a quarter of it,
 *   so every run at first and at most unsignedRecheckMax.
 */
export function subjectDueAt(
  state: "missing" | "unsigned" | "signed",
  firstSeen: number,
  signedAt: number | undefined,
  checkedAt: number,
  o: ScheduleOptions,
  random: number,
): number {
  if (state === "signed") {
    if (signedAt !== undefined && checkedAt - signedAt < o.settleS) return checkedAt;
    return jitteredDue(checkedAt, o.reverifyAfterS, o.jitterFraction, random);
  }
  const age = Math.max(0, checkedAt - firstSeen);
  return checkedAt + Math.min(o.unsignedRecheckMaxS, Math.floor(age / 4));
}
