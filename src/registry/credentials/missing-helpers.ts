// Credential helpers the Docker config names for some hosts but that are not on PATH: found at
// start, so a run does not learn it from every pair of those hosts failing.
import { findOnPath } from "./cred-helper.ts";
import { helperFor, type DockerConfig } from "./docker-config.ts";
import { normalizeHost } from "./hosts.ts";

export interface MissingHelper {
  /** `docker-credential-<name>`. */
  readonly program: string;
  /** Where the config names it, e.g. `credHelpers in /root/.docker/config.json`. */
  readonly origin: string;
  /** The hosts (normalised, in the order given, each once) it would serve. */
  readonly hosts: readonly string[];
}

/** The helpers `hosts` would need that PATH (from `env`) lacks; looked up, never run. */
export function missingHelpers(docker: DockerConfig, env: Readonly<Record<string, string | undefined>>, hosts: Iterable<string>): MissingHelper[] {
  const byProgram = new Map<string, { origin: string; hosts: string[] }>();
  const found = new Map<string, boolean>();
  for (const raw of hosts) {
    const host = normalizeHost(raw);
    const helper = helperFor(docker, host);
    if (helper === undefined) continue;
    const program = `docker-credential-${helper.name}`;
    let present = found.get(program);
    if (present === undefined) {
      present = findOnPath(program, env) !== undefined;
      found.set(program, present);
    }
    if (present) continue;
    const key = `${program}\n${helper.origin}`;
    const entry = byProgram.get(key) ?? { origin: helper.origin, hosts: [] };
    if (!entry.hosts.includes(host)) entry.hosts.push(host);
    byProgram.set(key, entry);
  }
  return [...byProgram].map(([key, e]) => ({ program: key.slice(0, key.indexOf("\n")), origin: e.origin, hosts: e.hosts }));
}
