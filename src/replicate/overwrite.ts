// Whether the primary's manifest may replace the one a mirror holds under the same tag. Pure.
// The primary is the source of truth, but what another signer wrote is never clobbered: a
// re-signing appends layers, so the primary's manifest must hold every layer the mirror's holds.
import { holdsEveryLayer } from "./oci.ts";

export interface OverwriteInput {
  /** The primary's tag, read live just now. */
  readonly primary: { readonly digest: string; readonly bytes: Uint8Array };
  /** The mirror's tag, read live just now; undefined when it is gone. */
  readonly mirror: { readonly digest: string; readonly bytes: Uint8Array } | undefined;
  readonly force: boolean;
  /** Replacements this run has made so far, and the cap (`--max-overwrites`). */
  readonly overwritesSoFar: number;
  readonly maxOverwrites: number;
}

export type OverwriteDecision =
  | { readonly kind: "same" }
  | { readonly kind: "absent" }
  | { readonly kind: "replace" }
  | { readonly kind: "conflict"; readonly reason: string };

export function overwriteDecision(i: OverwriteInput): OverwriteDecision {
  if (i.mirror === undefined) return { kind: "absent" };
  if (i.mirror.digest === i.primary.digest) return { kind: "same" };
  if (!i.force && !holdsEveryLayer(i.primary.bytes, i.mirror.bytes)) {
    return { kind: "conflict", reason: `the mirror's ${i.mirror.digest} holds signatures the primary's ${i.primary.digest} lacks` };
  }
  if (i.overwritesSoFar >= i.maxOverwrites) return { kind: "conflict", reason: `not replaced: --max-overwrites ${i.maxOverwrites} reached` };
  return { kind: "replace" };
}
