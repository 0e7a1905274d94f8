// The offline image (scripts/make-image.sh) holds what the binary needs: it is built from a copy of
// dist/sigmirror, unpacked with umoci, and the binary is run inside that root filesystem (chroot,
// as the nonroot user, with its own /proc in a private mount and PID namespace, as a container
// runtime would give it), also a replicate against loopback registries from the harness. Needs
// root, umoci (scripts/install-deps.sh) and util-linux's unshare.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readManifest, sigTag } from "./harness/index.ts";
import { cleanEnv, repoRoot } from "./lib/cli.ts";
import { startScenario, type Scenario } from "./lib/scenario.ts";

const distBinary = join(repoRoot, "dist/sigmirror");
let work = "";
let layout = "";
let rootfs = "";
let binary = "";
let chroot = "";

function run(cmd: string, args: string[], timeout = 120_000): { code: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { cwd: repoRoot, env: cleanEnv(), encoding: "utf8", timeout });
  return { code: r.status, out: r.stdout ?? "", err: r.stderr ?? "" };
}

/** Runs the image's /sigmirror as its user 65532, with nothing of this machine's environment. */
function inImage(args: string[]): { code: number | null; out: string; err: string } {
  const env = ["PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"];
  return run("unshare", [
    "--mount", "--pid", "--fork", `--mount-proc=${join(rootfs, "proc")}`,
    "env", "-i", ...env,
    chroot, "--userspec=65532:65532", rootfs, "/sigmirror", ...args,
  ], 30_000);
}

/** a+rX on a tree (mkdtemp and friends make 0700 directories; the image's user is 65532). */
function readableByAll(path: string): void {
  const st = statSync(path);
  chmodSync(path, (st.mode & 0o7777) | (st.isDirectory() ? 0o555 : 0o444));
  if (st.isDirectory()) for (const name of readdirSync(path)) readableByAll(join(path, name));
}

interface Descriptor {
  digest: string;
  annotations?: Record<string, string>;
}

function blob(digest: string): unknown {
  return JSON.parse(readFileSync(join(layout, "blobs", ...digest.split(":")), "utf8"));
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("image test: chroot and unshare need root (the tests run as root in CI)");
  for (const tool of ["umoci", "unshare", "chroot"]) {
    const found = run("sh", ["-c", `command -v ${tool}`]);
    if (found.code !== 0) throw new Error(`image test: ${tool} missing (run scripts/install-deps.sh)`);
    // env -i below runs it with the image's PATH, which has no sbin.
    if (tool === "chroot") chroot = found.out.trim();
  }
  if (!existsSync(distBinary)) {
    const built = run(join(repoRoot, "node_modules/.bin/bun"), ["build.ts"], 300_000);
    if (built.code !== 0) throw new Error(`image test: bun build.ts failed: ${built.err}`);
  }
  work = mkdtempSync(join(tmpdir(), "sigmirror-image-"));
  // A private copy: another `make build` may rewrite dist/sigmirror while this test runs.
  binary = join(work, "sigmirror");
  copyFileSync(distBinary, binary);
  layout = join(work, "layout");
  const made = run(join(repoRoot, "scripts/make-image.sh"), [layout, binary]);
  if (made.code !== 0) throw new Error(`make-image.sh failed (${made.code}): ${made.err}`);
  const unpacked = run("umoci", ["unpack", "--image", `${layout}:latest`, join(work, "bundle")]);
  if (unpacked.code !== 0) throw new Error(`umoci unpack failed: ${unpacked.err}`);
  rootfs = join(work, "bundle", "rootfs");
}, 360_000);

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

describe("image built offline", () => {
  test("config: exec-form entrypoint, nonroot user, ledger volume and workdir, version labels", () => {
    const idx = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
    const refs = idx.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"]);
    const version = execFileSync(binary, ["--version"], { encoding: "utf8" }).split(" ")[1] ?? "";
    expect(refs.sort()).toEqual([version, "latest"].sort());
    const latest = idx.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === "latest");
    const manifest = blob(latest?.digest ?? "") as { config: Descriptor; layers: Descriptor[] };
    expect(manifest.layers).toHaveLength(1);
    const config = blob(manifest.config.digest) as {
      os: string;
      architecture: string;
      config: { Entrypoint: string[]; User: string; WorkingDir: string; Volumes: Record<string, unknown>; Labels: Record<string, string> };
    };
    expect(config.os).toBe("linux");
    expect(config.architecture).toBe("amd64");
    expect(config.config.Entrypoint).toEqual(["/sigmirror"]);
    expect(config.config.User).toBe("65532:65532");
    expect(config.config.WorkingDir).toBe("/var/lib/sigmirror");
    expect(Object.keys(config.config.Volumes)).toEqual(["/var/lib/sigmirror"]);
    expect(config.config.Labels["org.opencontainers.image.version"]).toBe(version);
    expect(config.config.Labels["org.opencontainers.image.title"]).toBe("sigmirror");
  });

  test("root filesystem: glibc the binary links, CA certificates, nonroot user, /tmp, ledger dir owned by 65532", () => {
    const ldd = execFileSync("ldd", [binary], { encoding: "utf8" });
    const needed = [...ldd.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1] ?? "");
    expect(needed.some((p) => p.includes("ld-linux"))).toBe(true);
    for (const lib of needed) expect(existsSync(join(rootfs, lib))).toBe(true);
    expect(statSync(join(rootfs, "etc/ssl/certs/ca-certificates.crt")).size).toBeGreaterThan(1000);
    expect(readFileSync(join(rootfs, "etc/passwd"), "utf8")).toContain("nonroot:x:65532:65532:");
    expect(readFileSync(join(rootfs, "etc/group"), "utf8")).toContain("nonroot:x:65532:");
    expect(statSync(join(rootfs, "tmp")).mode & 0o7777).toBe(0o1777);
    const ledgerDir = statSync(join(rootfs, "var/lib/sigmirror"));
    expect([ledgerDir.uid, ledgerDir.gid]).toEqual([65532, 65532]);
    expect(statSync(join(rootfs, "sigmirror")).mode & 0o111).toBe(0o111);
  });

  test("sigmirror --version runs inside the image as the nonroot user", () => {
    const outside = execFileSync(binary, ["--version"], { encoding: "utf8" });
    const r = inImage(["--version"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(outside);
    expect(r.out).toMatch(/^sigmirror \d+\.\d+\.\d+\S* \(commit \S+, built \S+\)\n$/);
  });

  test("sigmirror plan --help runs inside the image", () => {
    const r = inImage(["plan", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Usage:");
    expect(r.out).toContain("sigmirror plan");
    expect(r.out).toContain("Exit codes:");
  });

  test("the check can fail: without libc in the image the binary does not start", () => {
    const libc = join(rootfs, "lib/x86_64-linux-gnu/libc.so.6");
    expect(existsSync(libc)).toBe(true);
    renameSync(libc, `${libc}.away`);
    try {
      const r = inImage(["--version"]);
      expect(r.code).not.toBe(0);
      expect(r.out).toBe("");
    } finally {
      renameSync(`${libc}.away`, libc);
    }
    expect(inImage(["--version"]).code).toBe(0);
  });

  // The chroot shares this machine's network namespace, so the harness's loopback registries are
  // reachable from inside; the manifests are copied into the image, the ledger is the image's volume.
  test("replicate against loopback registries inside the chroot, then a warm run that asks no mirror", async () => {
    let s: Scenario | undefined;
    const inside = "/work/manifests";
    const ledger = "/var/lib/sigmirror/state.db";
    try {
      s = await startScenario({ mirrors: 1, signed: 1, unsigned: 0, indexes: 1 });
      cpSync(s.thinDir, join(rootfs, inside), { recursive: true });
      readableByAll(join(rootfs, "work"));
      const args = ["replicate", "--thin-manifest-dir", inside, "--primary", s.primary.host, "--ledger", ledger, "--report", "/tmp/report.json"];

      const cold = inImage(args);
      expect(cold.err).toContain("copied 4,");
      expect(cold.code).toBe(0);
      const mirror = s.mirrors[0];
      if (mirror === undefined) throw new Error("no mirror");
      for (const img of s.images) {
        for (const subject of [img.image, ...img.children]) {
          const onPrimary = await readManifest(s.primary, img.repository, sigTag(subject.digest));
          if (onPrimary === undefined) throw new Error(`${img.repository}@${subject.digest}: not signed on the primary`);
          expect((await readManifest(mirror, img.repository, sigTag(subject.digest)))?.digest).toBe(onPrimary.digest);
        }
      }
      // Written by the nonroot user inside the image, in its volume and its /tmp.
      const db = statSync(join(rootfs, ledger));
      expect([db.uid, db.gid]).toEqual([65532, 65532]);
      const report = JSON.parse(readFileSync(join(rootfs, "tmp/report.json"), "utf8")) as { copied?: unknown };
      expect(report.copied).toBe(4);

      await s.clearLogs();
      const warm = inImage(args);
      expect(warm.code).toBe(0);
      expect(warm.err).toContain("copied 0,");
      expect((await s.requests())[mirror.host]).toBe(0);
    } finally {
      await s?.stop();
      rmSync(join(rootfs, "work"), { recursive: true, force: true });
    }
  }, 60_000);
});
