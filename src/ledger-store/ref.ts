// `--ledger-ref REGISTRY/REPOSITORY:TAG`: where the ledger is kept between ephemeral pods.

export interface LedgerRef {
  readonly host: string;
  readonly repository: string;
  readonly tag: string;
}

const HOST = /^[a-zA-Z0-9.-]+(:[0-9]+)?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export function parseLedgerRef(text: string): LedgerRef | undefined {
  const slash = text.indexOf("/");
  if (slash <= 0) return undefined;
  const host = text.slice(0, slash);
  const rest = text.slice(slash + 1);
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const repository = rest.slice(0, colon);
  const tag = rest.slice(colon + 1);
  if (!HOST.test(host) || !TAG.test(tag)) return undefined;
  if (!repository.split("/").every((c) => COMPONENT.test(c))) return undefined;
  return { host, repository, tag };
}

export function formatLedgerRef(r: LedgerRef): string {
  return `${r.host}/${r.repository}:${r.tag}`;
}
