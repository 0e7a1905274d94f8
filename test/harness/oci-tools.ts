// regctl and oras as independent readers and writers of referrers, for loopback plain-HTTP
// registries. Both use the referrers API where the registry answers it and the `sha256-<hex>`
// fallback tag where it does not (distribution 2.8), so they see what a client would see.
import { basename, dirname } from "node:path";
import { runGoToolOk } from "./go-tools.ts";
import { isRecord, stringRecord } from "../../src/registry/oci-json.ts";

export interface Referrer {
  readonly digest: string;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
}

/** "127.1.2.3:5000/repo@sha256:..." -> "127.1.2.3:5000". */
export function registryOf(ref: string): string {
  const slash = ref.indexOf("/");
  if (slash <= 0) throw new Error(`not a registry reference: ${ref}`);
  return ref.slice(0, slash);
}


function toReferrer(v: unknown, what: string): Referrer {
  if (!isRecord(v) || typeof v["digest"] !== "string") throw new Error(`${what}: no digest in ${JSON.stringify(v)}`);
  const annotations = stringRecord(v["annotations"]);
  return {
    digest: v["digest"],
    ...(typeof v["artifactType"] === "string" ? { artifactType: v["artifactType"] } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what}: not JSON: ${text.slice(0, 500)}`);
  }
}

/**
 * Digests of ref's referrers, as regctl lists them. The global --host flag marks the registry as
 * plain HTTP for this one call (`regctl registry set --tls disabled` would write a config file).
 */
export async function regctlArtifactList(ref: string, opts: { artifactType?: string } = {}): Promise<string[]> {
  const args = ["--host", `reg=${registryOf(ref)},tls=disabled`, "artifact", "list", ref];
  if (opts.artifactType !== undefined) args.push("--filter-artifact-type", opts.artifactType);
  // One digest a line: the Go template walks the index's descriptors.
  args.push("--format", "{{range .Descriptors}}{{println .Digest}}{{end}}");
  const r = await runGoToolOk("regctl", args);
  return r.out.split("\n").filter((l) => l.trim() !== "");
}

/**
 * Attaches file to ref as a new referrer (a manifest with ref as subject) and returns its digest.
 * oras refuses absolute paths (and records the name as the layer's title), so it runs in the
 * file's directory with the base name.
 */
export async function orasAttach(ref: string, opts: { artifactType: string; file: string; annotations?: Record<string, string> }): Promise<string> {
  const args = ["attach", "--plain-http", "--no-tty", "--format", "json", "--artifact-type", opts.artifactType];
  for (const [k, v] of Object.entries(opts.annotations ?? {})) args.push("--annotation", `${k}=${v}`);
  const r = await runGoToolOk("oras", [...args, ref, basename(opts.file)], { cwd: dirname(opts.file) });
  return toReferrer(parseJson(r.out, "oras attach"), "oras attach").digest;
}

/** ref's direct referrers as oras discovers them (nested referrers of referrers left out). */
export async function orasDiscover(ref: string, opts: { artifactType?: string } = {}): Promise<Referrer[]> {
  const args = ["discover", "--plain-http", "--format", "json", "--depth", "1", ref];
  if (opts.artifactType !== undefined) args.push("--artifact-type", opts.artifactType);
  const r = await runGoToolOk("oras", args);
  const body = parseJson(r.out, "oras discover");
  const list = isRecord(body) ? body["referrers"] : undefined;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new Error(`oras discover: referrers is not a list: ${r.out.slice(0, 500)}`);
  return list.map((x) => toReferrer(x, "oras discover"));
}
