// A docker-style config.json ("auths") for the registries a test uses, for tools and CLIs that
// read credentials from DOCKER_CONFIG or REGISTRY_AUTH_FILE (skopeo --authfile).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestRegistry } from "./registry.ts";

export function dockerConfig(registries: readonly TestRegistry[]): { auths: Record<string, { auth: string }> } {
  const auths: Record<string, { auth: string }> = {};
  for (const r of registries) {
    if (r.auth === "anonymous" || !r.credentials) continue;
    auths[r.host] = { auth: Buffer.from(`${r.credentials.username}:${r.credentials.password}`).toString("base64") };
  }
  return { auths };
}

/** Writes dir/config.json (mode 0600) and returns its path. */
export function writeDockerConfig(dir: string, registries: readonly TestRegistry[]): string {
  const file = join(dir, "config.json");
  writeFileSync(file, `${JSON.stringify(dockerConfig(registries), null, 2)}\n`, { mode: 0o600 });
  return file;
}
