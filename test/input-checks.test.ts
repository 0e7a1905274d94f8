// Bad input is refused before the first request: one line naming it, exit 2, and the registries
// the manifests point at (servers that count every request) see nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sigmirror, type CliResult } from "./lib/cli.ts";
import { startCountingServer, type CountingServer } from "./lib/counting-server.ts";
import { writeThinManifests } from "./lib/scenario.ts";

const digest = `sha256:${"a".repeat(64)}`;

let primary: CountingServer;
let mirror: CountingServer;
let dir: string;
let thinDir: string;

beforeAll(() => {
  primary = startCountingServer();
  mirror = startCountingServer();
  dir = mkdtempSync(join(tmpdir(), "sigmirror-inputs-"));
  thinDir = join(dir, "thin");
  writeThinManifests(thinDir, [primary.host, mirror.host], [{ name: "app", digest, tag: "v1" }]);
});

afterAll(async () => {
  await primary.stop();
  await mirror.stop();
  rmSync(dir, { recursive: true, force: true });
});

function requests(): number {
  return primary.requests() + mirror.requests();
}

/** `verb` on the counting servers' manifests, stateless. */
function run(verb: "replicate" | "verify", extra: readonly string[], env: Record<string, string> = {}, manifests = thinDir): Promise<CliResult> {
  const ledger = verb === "replicate" ? ["--no-ledger"] : [];
  return sigmirror([verb, "--thin-manifest-dir", manifests, "--primary", primary.host, ...ledger, ...extra], { env, timeoutMs: 20_000 });
}

/** The counting servers' thin layout in its own directory, its images.yaml replaced by `make`. */
function layoutWithImages(name: string, make: (imagesYaml: string) => void): { dir: string; imagesYaml: string } {
  const layout = join(dir, name);
  writeThinManifests(layout, [primary.host, mirror.host], [{ name: "app", digest, tag: "v1" }]);
  const imagesYaml = join(layout, "images", "demo", "images.yaml");
  rmSync(imagesYaml);
  make(imagesYaml);
  return { dir: layout, imagesYaml };
}

/** Exit 2, one stderr line, no request: returns the line. */
async function refusedBeforeAnyRequest(r: Promise<CliResult>): Promise<string> {
  const before = requests();
  const { code, err } = await r;
  expect({ requests: requests() - before, code }).toEqual({ requests: 0, code: 2 });
  const lines = err.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0] ?? "";
}

describe("durations", () => {
  test("--reverify-after over 365d is exit 2 before any request, naming the flag and the bound", async () => {
    const line = await refusedBeforeAnyRequest(run("replicate", ["--reverify-after", "99999999999999999999h"]));
    expect(line).toContain('replicate: --reverify-after: expected a duration of at most 365d (got "99999999999999999999h")');
  });

  test("SIGMIRROR_TEST_CLOCK_OFFSET over 365d is exit 2 before any request, naming it and the bound", async () => {
    const line = await refusedBeforeAnyRequest(run("verify", [], { SIGMIRROR_TEST_CLOCK_OFFSET: "366d" }));
    expect(line).toContain('SIGMIRROR_TEST_CLOCK_OFFSET: expected a duration of at most 365d (got "366d")');
  });
});

describe("manifest files", () => {
  test("a FIFO as images.yaml is exit 2 at once, naming it, before any request", async () => {
    const { dir: layout, imagesYaml } = layoutWithImages("fifo", (path) => {
      expect(Bun.spawnSync(["mkfifo", path]).exitCode).toBe(0);
    });
    const started = Date.now();
    const line = await refusedBeforeAnyRequest(run("replicate", [], {}, layout));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(line).toStartWith(`sigmirror: ${imagesYaml}: cannot read: not a regular file (a FIFO)`);
  });

  test("a sparse images.yaml over 64 MiB is exit 2, naming it and the cap, before any request", async () => {
    const { dir: layout, imagesYaml } = layoutWithImages("sparse", (path) => {
      writeFileSync(path, "");
      truncateSync(path, 100 * 1024 * 1024);
    });
    const line = await refusedBeforeAnyRequest(run("verify", [], {}, layout));
    expect(line).toStartWith(`sigmirror: ${imagesYaml}: cannot read: 104857600 bytes, more than a manifest file may hold (64 MiB)`);
  });
});

describe("--report and --junit: one rule, applied before any request", () => {
  test("--report under a regular file (its directory cannot be made) is exit 2 naming flag and path", async () => {
    const blocker = join(dir, "report-blocker");
    writeFileSync(blocker, "not a directory\n");
    const path = join(blocker, "sub", "r.json");
    const line = await refusedBeforeAnyRequest(run("replicate", ["--report", path]));
    expect(line).toStartWith(`sigmirror: replicate: --report: ${path}: cannot create its directory ${join(blocker, "sub")} (${blocker} is not a directory)`);
  });

  test("--report naming a directory is exit 2, and no temporary file is left beside it", async () => {
    const parent = join(dir, "report-parent");
    const target = join(parent, "is-a-dir");
    mkdirSync(target, { recursive: true });
    const line = await refusedBeforeAnyRequest(run("verify", ["--report", target]));
    expect(line).toStartWith(`sigmirror: verify: --report: ${target}: is a directory, expected a file`);
    expect(readdirSync(parent)).toEqual(["is-a-dir"]);
  });

  test("$ARTIFACTS under a regular file is exit 2 naming --junit and the default path", async () => {
    const blocker = join(dir, "artifacts-blocker");
    writeFileSync(blocker, "not a directory\n");
    const artifacts = join(blocker, "artifacts");
    const line = await refusedBeforeAnyRequest(run("replicate", [], { ARTIFACTS: artifacts }));
    expect(line).toStartWith(`sigmirror: replicate: --junit ($ARTIFACTS/junit_sigmirror.xml): ${join(artifacts, "junit_sigmirror.xml")}: cannot create its directory ${artifacts} (${blocker} is not a directory)`);
  });

  test("--report and --junit into missing directories: both created, both written", async () => {
    const report = join(dir, "new-report", "deep", "r.json");
    const junit = join(dir, "new-junit", "deep", "j.xml");
    const r = await run("replicate", ["--report", report, "--junit", junit]);
    expect(r.err).not.toContain("error");
    expect(r.code).toBe(0);
    expect({ report: existsSync(report), junit: existsSync(junit) }).toEqual({ report: true, junit: true });
    expect(readdirSync(join(dir, "new-report", "deep"))).toEqual(["r.json"]);
  });
});

describe("credential helpers named in the Docker config", () => {
  function config(name: string, doc: unknown): string {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(doc));
    return path;
  }
  // PATH as the job has it, without any docker-credential-nosuch.
  const env = { PATH: "/usr/bin:/bin" };

  test("credHelpers naming a missing helper for the primary: exit 2 before any request, naming helper and host", async () => {
    const cfg = config("cred-helpers", { credHelpers: { [primary.host]: "nosuch" } });
    const line = await refusedBeforeAnyRequest(run("replicate", ["--registry-config", cfg], env));
    expect(line).toStartWith(`sigmirror: replicate: docker-credential-nosuch not found on PATH (credHelpers in ${cfg}), needed for ${primary.host}`);
  });

  test("credsStore naming a missing helper: exit 2 before any request, naming helper and every host", async () => {
    const cfg = config("creds-store", { credsStore: "nosuch" });
    const line = await refusedBeforeAnyRequest(run("verify", ["--registry-config", cfg], env));
    expect(line).toStartWith(`sigmirror: verify: docker-credential-nosuch not found on PATH (credsStore in ${cfg}), needed for ${primary.host}, ${mirror.host}`);
  });

  test("a missing helper for a host the run does not touch is no error", async () => {
    const cfg = config("other-host", { credHelpers: { "elsewhere.example": "nosuch" } });
    const r = await run("replicate", ["--registry-config", cfg], env);
    expect(r.err).not.toContain("nosuch");
    expect(r.code).toBe(0);
  });
});
