import { HostGivenUp, Stopped, type HostQueues } from "./host-queue.ts";
import type { Seen } from "./pair-action.ts";
import type { RegistryPort, TagList } from "./port.ts";

export type TagState = Seen;

export interface TagLookup {
  readonly tag: string;
  /** The ledger's guess: the tag existed when last seen. */
  readonly expectPresent: boolean;
  /** False when presence is all the caller needs (it reads the tag next anyway): a listing naming it settles it. */
  readonly digestNeeded?: boolean;
}

const GOOGLE_HOST = /(^|\.)gcr\.io$|-docker\.pkg\.dev$/;

/**
 * Resolves many tags of one (host, repository) with as few requests as the registry allows:
 * one listing (all pages) where it beats a HEAD per tag. A listing with digests (Google's
 * `manifest` map) settles every tag it names; elsewhere it settles absences, and each present
 * tag still needs a HEAD for its digest. A listing that may be truncated never proves absence,
 * and an absence seen only in a listing is marked so (`via: "listing"`): it plans, it never
 * licenses a write.
 */
export class TagResolver {
  /** Whether a host's listing carries digests: learned from its first listing. */
  private readonly listingHasDigests = new Map<string, boolean>();

  constructor(
    private readonly port: RegistryPort,
    private readonly queues: HostQueues,
  ) {}

  private expectsDigests(host: string): boolean {
    return this.listingHasDigests.get(host) ?? GOOGLE_HOST.test(host.split(":")[0] ?? host);
  }

  /**
   * Request-count estimate decides: a listing costs one page plus, without digests, a HEAD per
   * present tag, and, when absent tags will be written (`readsBeforeWrite`), a HEAD per absent tag.
   */
  shouldList(host: string, lookups: readonly TagLookup[], readsBeforeWrite: boolean): boolean {
    if (lookups.length < 2) return false;
    const present = lookups.filter((l) => l.expectPresent && l.digestNeeded !== false).length;
    const absent = lookups.filter((l) => !l.expectPresent).length;
    const listingCost = 1 + (this.expectsDigests(host) ? 0 : present) + (readsBeforeWrite ? absent : 0);
    return listingCost < lookups.length;
  }

  async resolve(host: string, repository: string, lookups: readonly TagLookup[], readsBeforeWrite: boolean): Promise<Map<string, TagState | Error>> {
    const out = new Map<string, TagState | Error>();
    let listing: TagList | undefined | "unlisted" = "unlisted";
    if (this.shouldList(host, lookups, readsBeforeWrite)) {
      try {
        listing = await this.queues.run(host, () => this.port.listTags(host, repository));
        if (listing !== undefined) this.listingHasDigests.set(host, listing.digests !== undefined);
      } catch (err) {
        // Stopped or given up: every lookup ends so. Anything else: a HEAD per tag instead (the
        // queue counted a host failure), so a failed listing is never silently dropped.
        if (err instanceof Stopped || err instanceof HostGivenUp) {
          for (const l of lookups) out.set(l.tag, err);
          return out;
        }
        listing = "unlisted";
      }
    }
    const heads: string[] = [];
    if (listing === undefined) {
      for (const l of lookups) out.set(l.tag, { present: false, via: "listing" });
      return out;
    }
    if (listing === "unlisted") {
      heads.push(...lookups.map((l) => l.tag));
    } else {
      const names = new Set(listing.tags);
      for (const l of lookups) {
        const digest = listing.digests?.get(l.tag);
        if (digest !== undefined) out.set(l.tag, { present: true, digest, via: "listing" });
        else if (!names.has(l.tag) && listing.complete) out.set(l.tag, { present: false, via: "listing" });
        else if (names.has(l.tag) && l.digestNeeded === false) out.set(l.tag, { present: true, digest: "", via: "listing" });
        else heads.push(l.tag);
      }
    }
    await Promise.all(
      heads.map(async (tag) => {
        try {
          const d = await this.queues.run(host, () => this.port.headManifest(host, repository, tag));
          out.set(tag, d === undefined ? { present: false, via: "read" } : { present: true, digest: d.digest, via: "read" });
        } catch (err) {
          out.set(tag, err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
    return out;
  }
}
