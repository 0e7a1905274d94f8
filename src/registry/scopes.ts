// Bearer token scopes: `repository:<name>:<actions>`, compared action by action.
import type { Action, Scope } from "./types.ts";

/** One string per repository and action: what a token must cover. */
export function scopeItems(scopes: readonly Scope[]): string[] {
  const out = new Set<string>();
  for (const s of scopes) for (const a of s.actions) out.add(`repository:${s.repository}:${a}`);
  return [...out].sort();
}

/** Items of the server's scope strings (`repository:a:pull,push` -> two items). */
export function itemsOfScopeStrings(scopes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of scopes) {
    const last = s.lastIndexOf(":");
    if (last <= 0) continue;
    const resource = s.slice(0, last);
    for (const a of s.slice(last + 1).split(",")) if (a !== "") out.add(`${resource}:${a}`);
  }
  return [...out].sort();
}

/** Items grouped back into the `scope` parameters of a token request, one per resource. */
export function scopeParams(items: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const item of items) {
    const last = item.lastIndexOf(":");
    const resource = item.slice(0, last);
    const actions = byResource.get(resource) ?? new Set<string>();
    actions.add(item.slice(last + 1));
    byResource.set(resource, actions);
  }
  const order: Readonly<Record<string, number>> = { pull: 0, push: 1, delete: 2 };
  return [...byResource].map(([resource, actions]) => {
    const sorted = [...actions].sort((a, b) => (order[a] ?? 9) - (order[b] ?? 9) || a.localeCompare(b));
    return `${resource}:${sorted.join(",")}`;
  });
}

export function pull(repository: string): Scope {
  return { repository, actions: ["pull"] };
}

export function push(repository: string): Scope {
  return { repository, actions: ["pull", "push"] as readonly Action[] };
}

/** Deleting a manifest: distribution's token auth wants the `delete` action for it. */
export function remove(repository: string): Scope {
  return { repository, actions: ["pull", "delete"] as readonly Action[] };
}
