import type { HostQueues } from "./host-queue.ts";
import type { RegistryPort, TagList } from "./port.ts";

export type TagState = { readonly present: true; readonly digest: string } | { readonly present: false };

export interface TagLookup {
  readonly tag: string;
  /** The ledger's guess: the tag existed when last seen. */
  readonly expectPresent: boolean;
}

const GOOGLE_HOST = /(^|\.)gcr\.io$|-docker\.pkg\.dev$/;

/**
 * Resolves many tags of one (host, repository) with as few requests as the registry allows:
 * one listing (all pages) where it beats a HEAD per tag. A listing with digests (Google's
 * `manifest` map) settles every tag it names; elsewhere it settles absences, and each present
 * tag still needs a HEAD for its digest. A listing that may be truncated never proves absence.
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

  /** Request-count estimate decides: a listing costs one page plus, without digests, a HEAD per present tag. */
  shouldList(host: string, lookups: readonly TagLookup[]): boolean {
    if (lookups.length < 2) return false;
    const present = lookups.filter((l) => l.expectPresent).length;
    const listingCost = 1 + (this.expectsDigests(host) ? 0 : present);
    return listingCost < lookups.length;
  }

  async resolve(host: string, repository: string, lookups: readonly TagLookup[]): Promise<Map<string, TagState | Error>> {
    const out = new Map<string, TagState | Error>();
    let listing: TagList | undefined | "unlisted" = "unlisted";
    if (this.shouldList(host, lookups)) {
      try {
        listing = await this.queues.run(host, () => this.port.listTags(host, repository));
        if (listing !== undefined) this.listingHasDigests.set(host, listing.digests !== undefined);
      } catch {
        listing = "unlisted"; // fall back to a HEAD per tag; a host failure is counted by the queue
      }
    }
    const heads: string[] = [];
    if (listing === undefined) {
      for (const l of lookups) out.set(l.tag, { present: false });
      return out;
    }
    if (listing === "unlisted") {
      heads.push(...lookups.map((l) => l.tag));
    } else {
      const names = new Set(listing.tags);
      for (const l of lookups) {
        const digest = listing.digests?.get(l.tag);
        if (digest !== undefined) out.set(l.tag, { present: true, digest });
        else if (!names.has(l.tag) && listing.complete) out.set(l.tag, { present: false });
        else heads.push(l.tag);
      }
    }
    await Promise.all(
      heads.map(async (tag) => {
        try {
          const d = await this.queues.run(host, () => this.port.headManifest(host, repository, tag));
          out.set(tag, d === undefined ? { present: false } : { present: true, digest: d.digest });
        } catch (err) {
          out.set(tag, err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
    return out;
  }
}
