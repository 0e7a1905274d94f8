// The one place the core touches a runtime's own API: a full collection between the run's phases
// (parsing manifests leaves ~100 MB of garbage that the ledger would otherwise be loaded on top of).
// Bun has Bun.gc; elsewhere (Deno) this does nothing.
interface WithBunGc {
  readonly Bun?: { gc(force: boolean): void };
}

export function collectGarbage(): void {
  (globalThis as WithBunGc).Bun?.gc(true);
}
