import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "./args.ts";
import { UsageError } from "./exit.ts";
import { prepareOutputPath, prepareOutputs } from "./output-path.ts";

const tmp = mkdtempSync(join(tmpdir(), "sigmirror-output-path-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

writeFileSync(join(tmp, "existing.json"), "old\n");
writeFileSync(join(tmp, "a-file"), "x\n");
mkdirSync(join(tmp, "a-dir"));

describe("prepareOutputPath", () => {
  // [name, path, error (undefined: accepted)]
  const cases: [string, string, string | undefined][] = [
    ["a new file in an existing directory", join(tmp, "new.json"), undefined],
    ["an existing regular file", join(tmp, "existing.json"), undefined],
    ["a new file in missing directories", join(tmp, "made", "deep", "r.json"), undefined],
    ["a directory", join(tmp, "a-dir"), `--report: ${join(tmp, "a-dir")}: is a directory, expected a file`],
    ["a device", "/dev/null", "--report: /dev/null: is not a regular file"],
    ["a path under a regular file", join(tmp, "a-file", "r.json"), `--report: ${join(tmp, "a-file", "r.json")}: cannot create its directory ${join(tmp, "a-file")} (${join(tmp, "a-file")} is not a directory)`],
    ["deeper under a regular file", join(tmp, "a-file", "x", "r.json"), `--report: ${join(tmp, "a-file", "x", "r.json")}: cannot create its directory ${join(tmp, "a-file", "x")} (${join(tmp, "a-file")} is not a directory)`],
    // sysfs takes no new files, not even from root (whose permission bits are no guide).
    ["a directory that takes no new files", "/sys/r.json", "--report: /sys/r.json: cannot create files in its directory /sys (EACCES)"],
    ["the empty path", "", '--report: expected a file path (got "")'],
  ];
  for (const [name, path, error] of cases) {
    test(`${name}: ${error === undefined ? "accepted" : "refused"}`, () => {
      if (error !== undefined) {
        expect(() => prepareOutputPath("--report", path)).toThrow(new UsageError(error));
        return;
      }
      expect(prepareOutputPath("--report", path)).toBe(path);
      expect(existsSync(join(path, ".."))).toBe(true);
    });
  }

  test("leaves nothing behind: no probe file, an existing file's content kept", () => {
    const before = readdirSync(tmp).sort();
    prepareOutputPath("--report", join(tmp, "existing.json"));
    prepareOutputPath("--report", join(tmp, "another.json"));
    expect(readdirSync(tmp).sort()).toEqual(before);
    expect(readFileSync(join(tmp, "existing.json"), "utf8")).toBe("old\n");
  });

  test("a relative path comes back absolute", () => {
    expect(prepareOutputPath("--report", "r.json")).toBe(join(process.cwd(), "r.json"));
  });

  // Root may write anything its permission bits forbid: these run as nobody (uid 65534).
  const unprivileged = process.getuid?.() === 0 && Bun.which("setpriv") !== null;
  const readOnlyFile = join(tmp, "shared", "read-only.json");
  const readOnlyDir = join(tmp, "shared", "read-only-dir");
  mkdirSync(readOnlyDir, { recursive: true });
  writeFileSync(readOnlyFile, "{}\n");
  chmodSync(join(tmp, "shared"), 0o777);
  chmodSync(tmp, 0o755);
  chmodSync(readOnlyFile, 0o444);
  chmodSync(readOnlyDir, 0o555);
  const asNobody: [string, string, string][] = [
    ["an existing file that is not writable", readOnlyFile, `--report: ${readOnlyFile}: not writable (EACCES)`],
    ["a directory that is not writable", join(readOnlyDir, "r.json"), `--report: ${join(readOnlyDir, "r.json")}: cannot create files in its directory ${readOnlyDir} (EACCES)`],
    ["missing directories under one not writable", join(readOnlyDir, "sub", "r.json"), `--report: ${join(readOnlyDir, "sub", "r.json")}: cannot create its directory ${join(readOnlyDir, "sub")} (EACCES)`],
  ];
  // The checkout may sit where nobody cannot read (a clone under a 0700 mktemp directory): nobody
  // runs a bundle of the module, built into the readable temporary directory.
  const bundle = join(tmp, "output-path.bundle.js");
  if (unprivileged) {
    const built = Bun.spawnSync([process.execPath, "build", join(import.meta.dir, "output-path.ts"), "--target", "bun", "--outfile", bundle], { stderr: "pipe" });
    if (built.exitCode !== 0) throw new Error(`bun build output-path.ts: ${built.stderr.toString()}`);
    chmodSync(bundle, 0o644);
  }
  for (const [name, path, error] of asNobody) {
    test.skipIf(!unprivileged)(`as an unprivileged user, ${name}: refused`, () => {
      const script = `import { prepareOutputPath } from ${JSON.stringify(bundle)};
        try { prepareOutputPath("--report", ${JSON.stringify(path)}); console.log("accepted"); } catch (e) { console.log(e instanceof Error ? e.message : String(e)); }`;
      const r = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script], { cwd: tmp });
      expect(r.stderr.toString()).toBe("");
      expect(r.stdout.toString().trim()).toBe(error);
    });
  }
});

describe("prepareOutputs", () => {
  const options = { report: { type: "string" as const, help: "" }, junit: { type: "string" as const, help: "" } };
  test("--report and --junit by the same rule, each named with the verb", () => {
    const args = parse("verify", ["--report", join(tmp, "a-dir"), "--junit", join(tmp, "j", "j.xml")], options, false);
    expect(() => prepareOutputs("verify", args, {})).toThrow(new UsageError(`verify: --report: ${join(tmp, "a-dir")}: is a directory, expected a file`));
    const junitOnly = parse("verify", ["--junit", join(tmp, "a-dir")], options, false);
    expect(() => prepareOutputs("verify", junitOnly, {})).toThrow(new UsageError(`verify: --junit: ${join(tmp, "a-dir")}: is a directory, expected a file`));
  });
  test("$ARTIFACTS: the default JUnit path is named as such, and its directory made", () => {
    const none = parse("replicate", [], options, false);
    const artifacts = join(tmp, "artifacts", "deep");
    expect(prepareOutputs("replicate", none, { ARTIFACTS: artifacts })).toEqual({ report: undefined, junit: join(artifacts, "junit_sigmirror.xml") });
    expect(existsSync(artifacts)).toBe(true);
    const blocked = join(tmp, "a-file", "artifacts");
    expect(() => prepareOutputs("replicate", none, { ARTIFACTS: blocked })).toThrow(
      new UsageError(`replicate: --junit ($ARTIFACTS/junit_sigmirror.xml): ${join(blocked, "junit_sigmirror.xml")}: cannot create its directory ${blocked} (${join(tmp, "a-file")} is not a directory)`),
    );
    expect(prepareOutputs("replicate", none, {})).toEqual({ report: undefined, junit: undefined });
  });
});
