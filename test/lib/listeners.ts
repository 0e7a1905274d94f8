// Loopback "registries" that only count connections: a run that must send nothing is shown to
// have sent nothing (a refused connection would prove as much only if the run reported it).
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Listeners {
  readonly hosts: readonly string[];
  readonly connections: () => number;
  /** A plain kpromo manifest: one image to be kept on every host, the first one the primary. */
  manifest(dir: string): string;
  stop(): void;
}

export function countingListeners(addresses: readonly string[] = ["127.0.0.1", "127.0.0.2"]): Listeners {
  let connections = 0;
  const servers = addresses.map((hostname) =>
    Bun.listen({
      hostname,
      port: 0,
      socket: {
        open: (s) => {
          connections++;
          s.end();
        },
        data: () => {},
      },
    }),
  );
  const hosts = servers.map((s) => `${s.hostname}:${s.port}`);
  return {
    hosts,
    connections: () => connections,
    manifest(dir) {
      const path = join(dir, "manifest.yaml");
      const registries = hosts.map((h) => `- name: ${h}/prod\n`).join("");
      const digest = `sha256:${"1".repeat(64)}`;
      writeFileSync(path, `registries:\n- name: staging.example/plain\n  src: true\n${registries}images:\n- name: app\n  dmap:\n    "${digest}": ["v1.0"]\n`);
      return path;
    },
    stop: () => {
      for (const s of servers) s.stop(true);
    },
  };
}
