// A subject's verified pairs summarised in one number: which (mirror, suffix) pairs it has. A warm
// run compares it with what the plan asks for and, when equal and not due, never reads the pairs
// themselves (920,000 of them for registry.k8s.io).

/** cyrb53: 53 bits, so it is an exact JS number and an exact SQLite integer. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Order-independent: the key of a set of (mirror host, suffix) pairs; 0 for none. */
export function pairsKey(pairs: Iterable<readonly [string, string]>): number {
  const items: string[] = [];
  for (const [host, suffix] of pairs) items.push(`${host}\t${suffix}`);
  if (items.length === 0) return 0;
  items.sort();
  return hash53(items.join("\n"));
}

/** The key of every mirror holding every suffix: what a fully replicated subject has. */
export function expectedPairsKey(mirrors: readonly string[], suffixes: readonly string[]): number {
  const pairs: [string, string][] = [];
  for (const m of mirrors) for (const s of suffixes) pairs.push([m, s]);
  return pairsKey(pairs);
}

/**
 * A cache key for a (mirrors, suffixes) list, hashed as it is read: a warm run asks once per
 * subject, and joining 20 host names each time would make 46,000 throw-away strings.
 */
export function listKey(a: readonly string[], b: readonly string[]): number {
  let h1 = 0x9e3779b9;
  let h2 = 0x7f4a7c15;
  const feed = (c: number) => {
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  };
  for (const list of [a, b]) {
    for (const item of list) {
      for (let i = 0; i < item.length; i++) feed(item.charCodeAt(i));
      feed(0x1f);
    }
    feed(0x1e);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The key of a subject's verified (mirror, referrer) pairs. A full product (every one of these
 * mirrors holds every one of these referrers, the settled case) keys as listKey(mirrors,
 * referrers), both sorted, so a warm run computes the expected key from the plan's mirrors and the
 * ledger's referrers without a string per pair; anything else keys as the pairs themselves.
 */
export function refKey(pairs: readonly (readonly [string, string])[]): number {
  if (pairs.length === 0) return 0;
  const hosts = [...new Set(pairs.map(([h]) => h))].sort();
  const digests = [...new Set(pairs.map(([, d]) => d))].sort();
  if (hosts.length * digests.length === new Set(pairs.map(([h, d]) => `${h}\t${d}`)).size) return listKey(hosts, digests);
  return pairsKey(pairs.map(([h, d]) => [h, `@${d}`]));
}

/** What refKey() is once every mirror holds every referrer: 0 without referrers. */
export function expectedRefKey(sortedMirrors: readonly string[], sortedReferrers: readonly string[]): number {
  return sortedReferrers.length === 0 || sortedMirrors.length === 0 ? 0 : listKey(sortedMirrors, sortedReferrers);
}
