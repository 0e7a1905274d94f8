// The peers of bench/peers.ts, each configured for sigmirror's job (copy the primary's .sig/.att
// tags and OCI 1.1 referrers to every mirror) as its documentation says, and run as one measured
// child: a tool needing many invocations runs from a generated shell script, so GNU time's figures
// (CPU summed over the children, peak RSS of the largest one) cover the whole job.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import type { TestRegistry } from "../test/harness/index.ts";
import { PROJECT_PATH, writeThinManifests } from "../test/lib/scenario.ts";
import { root, runSigmirror, type CliRun } from "./lib-cli.ts";
import { REPOSITORIES, type BenchImage, type Mirror } from "./lib-peers.ts";

const goBin = join(root, ".tools/go/bin");
export const regsyncBin = join(goBin, "regsync");
export const orasBin = join(goBin, "oras");
export const skopeoBin = "/usr/bin/skopeo";

export interface ToolRun {
  /** Printed, and pasted into the "reproduce with" lines. */
  readonly command: string;
  readonly run: CliRun;
  /** 1-minute load average when the run started, and when it ended. */
  readonly load: readonly [number, number];
}

export interface Peer {
  readonly name: string;
  /** What the peer was told, one line. */
  readonly setup: string;
  /** Which runs it gets: sigmirror steps its test clock, peers just rerun. */
  readonly runs: readonly { name: string; env?: Record<string, string> }[];
  /** The environment of the simulated day's run `round` (0-based) after those runs: sigmirror's test clock; peers rerun plainly. */
  readonly dayEnv?: (round: number) => Record<string, string>;
  run(env: Record<string, string>): Promise<ToolRun>;
}

export interface Job {
  readonly sigmirror: string;
  readonly primary: TestRegistry;
  readonly mirrors: readonly Mirror[];
  /** This job's own list: the simulated day appends the images it promotes (sigmirror's manifests follow it). */
  readonly images: BenchImage[];
  /** A directory of this tool's own (config, ledger, HOME). */
  readonly dir: string;
}

/** errFile: where a script's children write stderr (emptied first, read back into run.err: what a peer complained of). */
async function measured(binary: string, args: readonly string[], env: Record<string, string>, command: string, errFile?: string): Promise<ToolRun> {
  if (errFile !== undefined) writeFileSync(errFile, "");
  const before = loadavg()[0] ?? 0;
  const run = await runSigmirror(binary, args, { env, measure: true });
  const load: [number, number] = [before, loadavg()[0] ?? 0];
  if (errFile === undefined) return { command, run, load };
  return { command, run: { ...run, err: `${readFileSync(errFile, "utf8")}${run.err}` }, load };
}

/** A private HOME: none of the user's docker/regclient/containers/oras configuration may steer a peer. */
function homeEnv(dir: string): Record<string, string> {
  const home = join(dir, "home");
  mkdirSync(join(home, "run"), { recursive: true });
  return { HOME: home, DOCKER_CONFIG: join(home, ".docker"), XDG_CONFIG_HOME: join(home, ".config"), XDG_RUNTIME_DIR: join(home, "run") };
}

const clockSteps = [{ name: "cold" }, { name: "next" }, { name: "settle", env: { SIGMIRROR_TEST_CLOCK_OFFSET: "3h" } }, { name: "settled", env: { SIGMIRROR_TEST_CLOCK_OFFSET: "3h30m" } }];
const reruns = [{ name: "cold" }, { name: "next" }, { name: "settled" }];

/** The settled run is at +3h30m; the day's runs follow 30 minutes apart from +4h. */
const dayOffset = (round: number): Record<string, string> => ({ SIGMIRROR_TEST_CLOCK_OFFSET: `${240 + 30 * round}m` });

export function sigmirrorPeer(job: Job): Peer {
  const thin = join(job.dir, "manifests");
  // Every host is a destination of every image (kpromo's registries list); the primary is one of them.
  // Written before each run: the simulated day promotes images as it goes, as kpromo's manifests grow.
  const manifests = (): void =>
    writeThinManifests(thin, [job.primary, ...job.mirrors.map((m) => m.reg)].map((r) => r.host), job.images.map((i) => ({ name: i.name, digest: i.image.digest, tag: i.tag })));
  const args = ["replicate", "--thin-manifest-dir", thin, "--primary", job.primary.host, "--ledger", join(job.dir, "state.db"), "--tag-suffixes", "sig,att", "--rate-default", "1000"];
  return {
    name: "sigmirror",
    setup: "replicate --tag-suffixes sig,att --rate-default 1000 (default --referrers), SQLite ledger; runs stepped by SIGMIRROR_TEST_CLOCK_OFFSET",
    runs: clockSteps,
    dayEnv: dayOffset,
    run: (env) => {
      manifests();
      return measured(job.sigmirror, args, env, `dist/sigmirror ${args.join(" ").replaceAll(job.dir, "DIR")}`);
    },
  };
}

/** regsync: one `type: repository` entry per repository and mirror; all hosts plain HTTP at 1000 req/s. */
export function regsyncPeer(job: Job, fastCheck: boolean): Peer {
  const hosts = [job.primary, ...job.mirrors.map((m) => m.reg)];
  const lines = ["version: 1", "creds:"];
  for (const h of hosts) lines.push(`  - registry: ${h.host}`, "    tls: disabled", "    reqPerSec: 1000");
  lines.push("defaults:", "  parallel: 4", "  skipDockerConfig: true", "  digestTags: true", "  referrers: true", `  fastCheck: ${fastCheck}`, "sync:");
  for (const m of job.mirrors) {
    for (const name of REPOSITORIES) {
      lines.push(`  - source: ${job.primary.host}/${PROJECT_PATH}/${name}`, `    target: ${m.reg.host}/${PROJECT_PATH}/${name}`, "    type: repository");
    }
  }
  const config = join(job.dir, `regsync-${fastCheck ? "fast" : "full"}.yml`);
  writeFileSync(config, `${lines.join("\n")}\n`);
  const env = homeEnv(job.dir);
  return {
    name: `regsync${fastCheck ? " fastCheck" : ""}`,
    setup: `regsync once: ${REPOSITORIES.length * job.mirrors.length} repository entries, digestTags, referrers, fastCheck ${fastCheck}, parallel 4, reqPerSec 1000, tls disabled`,
    runs: reruns,
    run: (extra) => measured(regsyncBin, ["once", "-c", config], { ...env, ...extra }, `regsync once -c ${config.replace(job.dir, "DIR")}`),
  };
}

/**
 * skopeo sync per repository and mirror (the mirrors at once). Debian's skopeo 1.9 copies a
 * cosign `.sig` beside the image it copies only with `use-sigstore-attachments: true` in
 * registries.d; it knows no referrers, so the `sha256-<hex>` fallback tags travel as ordinary tags.
 */
export function skopeoPeer(job: Job): Peer {
  const regd = join(job.dir, "registries.d");
  mkdirSync(regd, { recursive: true });
  writeFileSync(join(regd, "default.yaml"), "default-docker:\n  use-sigstore-attachments: true\n");
  const policy = join(job.dir, "policy.json");
  writeFileSync(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
  const flags = `--src docker --dest docker --src-tls-verify=false --dest-tls-verify=false --all --preserve-digests --keep-going --registries.d ${regd} --policy ${policy}`;
  const script = ["set -u", "rc=0"];
  for (const m of job.mirrors) {
    // The destination is the parent: skopeo appends the source's last path element.
    const cmds = REPOSITORIES.map((name) => `${skopeoBin} sync ${flags} ${job.primary.host}/${PROJECT_PATH}/${name} ${m.reg.host}/${PROJECT_PATH} >/dev/null 2>>${job.dir}/skopeo.err || rc=1`);
    script.push(`( ${cmds.join("; ")}; exit $rc ) &`);
  }
  script.push("for j in $(jobs -p); do wait $j || rc=1; done", "exit $rc");
  const file = join(job.dir, "skopeo.sh");
  writeFileSync(file, `${script.join("\n")}\n`);
  const env = homeEnv(job.dir);
  return {
    name: "skopeo sync",
    setup: `skopeo ${skopeoVersion()} sync --all --preserve-digests --keep-going, registries.d use-sigstore-attachments: true; ${REPOSITORIES.length} repositories x ${job.mirrors.length} mirrors (mirrors at once)`,
    runs: reruns,
    run: (extra) => measured("/bin/bash", [file], { ...env, ...extra }, `bash ${file.replace(job.dir, "DIR")}  # skopeo sync ${flags.replaceAll(job.dir, "DIR")} PRIMARY/prod/NAME MIRROR/prod`, join(job.dir, "skopeo.err")),
  };
}

/** oras cp -r per image and mirror (8 at once through xargs): -r copies the referrers it finds. */
export function orasPeer(job: Job): Peer {
  const lines: string[] = [];
  for (const m of job.mirrors) {
    for (const i of job.images) lines.push(`${job.primary.host}/${i.repository}@${i.image.digest} ${m.reg.host}/${i.repository}@${i.image.digest}`);
  }
  const list = join(job.dir, "oras.list");
  writeFileSync(list, `${lines.join("\n")}\n`);
  const file = join(job.dir, "oras.sh");
  writeFileSync(file, `xargs -P 8 -L 1 sh -c '${orasBin} cp -r --from-plain-http --to-plain-http "$0" "$1" >/dev/null 2>>${job.dir}/oras.err' < ${list}\n`);
  const env = homeEnv(job.dir);
  return {
    name: "oras cp -r",
    setup: `oras cp -r --from-plain-http --to-plain-http, one call per image and mirror (${lines.length}), 8 at once`,
    runs: reruns,
    run: (extra) => measured("/bin/bash", [file], { ...env, ...extra }, `oras cp -r --from-plain-http --to-plain-http PRIMARY/REPO@DIGEST MIRROR/REPO@DIGEST  # per image and mirror`, join(job.dir, "oras.err")),
  };
}

function skopeoVersion(): string {
  if (!existsSync(skopeoBin)) return "(missing)";
  const r = Bun.spawnSync([skopeoBin, "--version"]);
  return new TextDecoder().decode(r.stdout).trim().replace(/^skopeo version /, "");
}
