// The one place the core touches a runtime's own API: a full collection between the run's phases
// (parsing manifests, then loading the ledger, each leave garbage the next phase would otherwise be
// stacked on top of), and a quick one now and then while a warm run walks 92,000 groups (at 2x the
// k8s shape its peak RSS is 250 MB without, 197 MB with, for the same CPU). Bun has Bun.gc;
// elsewhere (Deno) this does nothing.
interface WithBunGc {
  readonly Bun?: { gc(force: boolean): void };
}

/** `full`: a complete, blocking collection (tens of ms at these heaps); else a quick one. */
export function collectGarbage(full = true): void {
  (globalThis as WithBunGc).Bun?.gc(full);
}
