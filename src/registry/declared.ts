// Repositories the caller said it will use on a host, so that one bearer token can be asked for
// several of them at once (a token request counts against Artifact Registry's quota too).
// Batches are fixed slices of the declared list: every repository of a batch finds the batch's
// token in the cache. Small batches: some registries limit the header size (ACR).
import type { Action } from "./types.ts";

interface HostDeclarations {
  readonly order: string[];
  readonly access: Map<string, Action>;
}

export class DeclaredRepositories {
  private readonly hosts = new Map<string, HostDeclarations>();

  constructor(private readonly batchSize: number) {}

  declare(host: string, repositories: readonly string[], access: Action): void {
    const h = this.hosts.get(host) ?? { order: [], access: new Map<string, Action>() };
    for (const r of repositories) {
      const had = h.access.get(r);
      if (had === undefined) h.order.push(r);
      if (had !== "push") h.access.set(r, access);
    }
    this.hosts.set(host, h);
  }

  /** Stops batching these repositories (a batch token turned out not to cover them). */
  forget(host: string, repositories: readonly string[]): void {
    const h = this.hosts.get(host);
    if (h === undefined) return;
    for (const r of repositories) {
      if (!h.access.delete(r)) continue;
      const i = h.order.indexOf(r);
      if (i >= 0) h.order.splice(i, 1);
    }
  }

  /**
   * The scope items to ask for when `needed` (items of one request) is missing: the whole batch
   * of the declared repository it names, when the declarations cover what it needs; else `needed`.
   */
  expand(host: string, needed: readonly string[]): readonly string[] {
    const h = this.hosts.get(host);
    if (h === undefined || needed.length === 0) return needed;
    let batch: number | undefined;
    for (const item of needed) {
      const m = /^repository:(.+):(pull|push)$/.exec(item);
      if (!m) return needed;
      const [, repo = "", action] = m;
      const declared = h.access.get(repo);
      if (declared === undefined || (action === "push" && declared !== "push")) return needed;
      const b = Math.floor(h.order.indexOf(repo) / this.batchSize);
      if (batch !== undefined && b !== batch) return needed;
      batch = b;
    }
    if (batch === undefined) return needed;
    const items = new Set(needed);
    for (const repo of h.order.slice(batch * this.batchSize, (batch + 1) * this.batchSize)) {
      items.add(`repository:${repo}:pull`);
      if (h.access.get(repo) === "push") items.add(`repository:${repo}:push`);
    }
    return [...items].sort();
  }
}
