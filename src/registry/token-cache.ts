// Bearer tokens per registry host, each good for a set of scope items, until shortly before
// they expire. A token granted for several repositories serves requests to any of them.

export interface CachedToken {
  readonly token: string;
  readonly items: ReadonlySet<string>;
  /** Epoch ms after which the token is not used any more. */
  readonly useUntil: number;
}

/** expires_in when the server says nothing (the token spec's default; never less). */
export const defaultTokenLifetimeMs = 60_000;

/** Stop using a token this long before it expires: a tenth of its life, between 1 s and 60 s. */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, Math.max(1000, lifetimeMs / 10));
}

export class TokenCache {
  private readonly byHost = new Map<string, CachedToken[]>();

  constructor(
    private readonly now: () => number,
    private readonly maxPerHost = 256,
  ) {}

  /** A live token of host covering every item, if one is cached. */
  find(host: string, needed: readonly string[]): CachedToken | undefined {
    const list = this.byHost.get(host);
    if (list === undefined) return undefined;
    const now = this.now();
    const live = list.filter((t) => t.useUntil > now);
    if (live.length !== list.length) this.byHost.set(host, live);
    return live.find((t) => needed.every((item) => t.items.has(item)));
  }

  /** `obtainedAt`: when the token was asked for, so the lifetime counts from before it was issued. */
  put(host: string, items: readonly string[], token: string, lifetimeMs: number, obtainedAt: number): CachedToken {
    const life = Math.max(defaultTokenLifetimeMs, lifetimeMs);
    const entry: CachedToken = { token, items: new Set(items), useUntil: obtainedAt + life - refreshMarginMs(life) };
    const list = (this.byHost.get(host) ?? []).filter((t) => t.token !== token);
    list.unshift(entry);
    if (list.length > this.maxPerHost) list.length = this.maxPerHost;
    this.byHost.set(host, list);
    return entry;
  }

  /** The registry refused this token: never offer it again. */
  drop(host: string, token: string): void {
    const list = this.byHost.get(host);
    if (list !== undefined) this.byHost.set(host, list.filter((t) => t.token !== token));
  }
}
