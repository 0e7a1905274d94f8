// A credential helper the Docker config names for a host of this run, missing from PATH: exit 2
// before the first request, instead of every pair of that host failing.
import type { LedgerRef } from "../ledger-store/ref.ts";
import type { CredentialProviderWithExtras } from "../registry/credentials/index.ts";
import { UsageError } from "./exit.ts";

/** The hosts a run touches: each group's primary and mirrors (after the scope flags), and the --ledger-ref registry. */
export function runHosts(groups: readonly { readonly primary: string; readonly mirrors: readonly string[] }[], ledgerRef: LedgerRef | undefined): string[] {
  const hosts = new Set<string>();
  // The plan shares one mirrors array per host set: each is gone through once, not once per group.
  const seen = new Set<readonly string[]>();
  for (const g of groups) {
    hosts.add(g.primary);
    if (seen.has(g.mirrors)) continue;
    seen.add(g.mirrors);
    for (const m of g.mirrors) hosts.add(m);
  }
  if (ledgerRef !== undefined) hosts.add(ledgerRef.host);
  return [...hosts];
}

/** UsageError, one line naming each missing `docker-credential-<name>` and the hosts that need it. */
export function checkCredentialHelpers(verb: string, credentials: Pick<CredentialProviderWithExtras, "missingHelpers">, hosts: Iterable<string>): void {
  const missing = credentials.missingHelpers(hosts);
  if (missing.length === 0) return;
  const parts = missing.map((m) => `${m.program} not found on PATH (${m.origin}), needed for ${m.hosts.join(", ")}`);
  throw new UsageError(`${verb}: ${parts.join("; ")}`);
}
