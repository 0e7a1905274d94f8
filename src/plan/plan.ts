import type { Problem } from "../manifest/problem.ts";
import type { ParsedSource } from "../manifest/types.ts";
import type { Group, HostCounts, HostSetCount, Plan } from "./group.ts";

interface Building {
  readonly image: string;
  tags: readonly string[];
  /** One sorted host list per promotion; most groups have exactly one. */
  readonly hostLists: (readonly string[])[];
}

/** One image promoted under one path onto one host set: the digests of a repository from one manifest. */
interface Promotion {
  readonly image: string;
  readonly digests: ReadonlyMap<string, readonly string[]>;
  readonly hosts: readonly string[];
}

const noHosts: readonly string[] = Object.freeze([]);

/**
 * Files to groups: a pure function of the validated manifests and the `--primary` hosts.
 * Knows nothing of HTTP or the ledger.
 */
export function planGroups(sources: readonly ParsedSource[], primaries: readonly string[], warnings: readonly Problem[] = []): Plan {
  // repository -> its promotions, in input order. Nearly every repository has one, whose
  // digests map is the group list as it stands: nothing is built per digest for those.
  const byRepository = new Map<string, Promotion[]>();
  const interned = new Map<string, readonly string[]>();
  const intern = (hosts: readonly string[]): readonly string[] => {
    const key = hosts.join(" ");
    const known = interned.get(key);
    if (known !== undefined) return known;
    const frozen = Object.freeze([...hosts]);
    interned.set(key, frozen);
    return frozen;
  };
  let images = 0;

  for (const source of sources) {
    images += source.images.length;
    // Destinations of one manifest mostly share one path (the same repository in every region):
    // each (path, image) is one promotion, with all its hosts.
    const hostsByPath = new Map<string, string[]>();
    for (const d of source.destinations) {
      const hosts = hostsByPath.get(d.path);
      if (hosts === undefined) hostsByPath.set(d.path, [d.host]);
      else if (!hosts.includes(d.host)) hosts.push(d.host);
    }
    for (const [path, unsorted] of hostsByPath) {
      const hosts = intern(unsorted.sort());
      for (const image of source.images) {
        if (image.digests.size === 0) continue;
        const repository = `${path}/${image.name}`;
        const promotion = { image: image.name, digests: image.digests, hosts };
        const known = byRepository.get(repository);
        if (known === undefined) byRepository.set(repository, [promotion]);
        else known.push(promotion);
      }
    }
  }

  // Primary and mirrors depend only on the host set: computed once per distinct set.
  const roles = new Map<readonly string[], { primary: string | undefined; mirrors: readonly string[] }>();
  const roleOf = (hosts: readonly string[]) => {
    let role = roles.get(hosts);
    if (role === undefined) {
      const primary = primaries.find((p) => hosts.includes(p));
      role = { primary, mirrors: primary === undefined ? noHosts : Object.freeze(hosts.filter((h) => h !== primary)) };
      roles.set(hosts, role);
    }
    return role;
  };

  const groups: Group[] = [];
  const digests = new Set<string>();
  let edges = 0;
  let withoutPrimary = 0;
  const setCounts = new Map<readonly string[], number>();
  /** `n` groups on `hosts`: counted once per run of groups, not per group. */
  const count = (hosts: readonly string[], primary: string | undefined, n: number) => {
    edges += n * hosts.length;
    setCounts.set(hosts, (setCounts.get(hosts) ?? 0) + n);
    if (primary === undefined) withoutPrimary += n;
  };
  for (const repository of [...byRepository.keys()].sort()) {
    const promotions = byRepository.get(repository) as Promotion[];
    const only = promotions.length === 1 ? promotions[0] : undefined;
    if (only !== undefined) {
      const { image, hosts } = only;
      const { primary, mirrors } = roleOf(hosts);
      for (const digest of [...only.digests.keys()].sort()) {
        const tags = sortedUnique(only.digests.get(digest) as readonly string[]);
        groups.push({ repository, image, digest, tags, hosts, primary, mirrors });
        digests.add(digest);
      }
      count(hosts, primary, only.digests.size);
      continue;
    }
    const byDigest = merge(promotions);
    for (const digest of [...byDigest.keys()].sort()) {
      const b = byDigest.get(digest) as Building;
      const hosts = b.hostLists.length === 1 ? (b.hostLists[0] as readonly string[]) : intern([...new Set(b.hostLists.flat())].sort());
      const { primary, mirrors } = roleOf(hosts);
      groups.push({ repository, image: b.image, digest, tags: sortedUnique(b.tags), hosts, primary, mirrors });
      digests.add(digest);
      count(hosts, primary, 1);
    }
  }

  // Per-host figures from the per-set counts: a few dozen sets, not 46,000 groups.
  const perHostMutable = new Map<string, { groups: number; primary: number; mirror: number; withoutPrimary: number }>();
  const withoutPrimaryByHosts: HostSetCount[] = [];
  for (const [hosts, count] of setCounts) {
    const { primary } = roleOf(hosts);
    if (primary === undefined) withoutPrimaryByHosts.push({ hosts, groups: count });
    for (const host of hosts) {
      let c = perHostMutable.get(host);
      if (c === undefined) {
        c = { groups: 0, primary: 0, mirror: 0, withoutPrimary: 0 };
        perHostMutable.set(host, c);
      }
      c.groups += count;
      if (primary === undefined) c.withoutPrimary += count;
      else if (primary === host) c.primary += count;
      else c.mirror += count;
    }
  }
  const hostList = [...perHostMutable.keys()].sort();
  const perHost = new Map<string, HostCounts>(hostList.map((h) => [h, perHostMutable.get(h) as HostCounts]));
  withoutPrimaryByHosts.sort((a, b) => compare(a.hosts.join(" "), b.hosts.join(" ")));

  return {
    groups,
    warnings,
    primaries,
    projects: sources.length,
    images,
    repositories: byRepository.size,
    digests: digests.size,
    hosts: hostList,
    edges,
    mirrorPairs: edges - groups.length,
    withoutPrimary,
    perHost,
    withoutPrimaryByHosts,
  };
}

/** The promotions of one repository by digest: the first image name, tags and host lists of all. */
function merge(promotions: readonly Promotion[]): Map<string, Building> {
  const byDigest = new Map<string, Building>();
  for (const { image, digests, hosts } of promotions) {
    for (const [digest, tags] of digests) {
      const known = byDigest.get(digest);
      if (known === undefined) {
        byDigest.set(digest, { image, tags, hostLists: [hosts] });
        continue;
      }
      if (!known.hostLists.includes(hosts)) known.hostLists.push(hosts);
      if (known.tags !== tags) known.tags = [...known.tags, ...tags];
    }
  }
  return byDigest;
}

function sortedUnique(tags: readonly string[]): readonly string[] {
  if (tags.length === 1) return tags;
  return [...new Set(tags)].sort();
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
