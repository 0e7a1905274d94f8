// replicate and verify end to end on registries that want credentials: a token-auth primary, an
// htpasswd mirror and a TLS token-auth mirror, credentials from a Docker config.json given with
// --registry-config, the TLS CA with --registry-ca. Known passwords never appear in any output.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startRegistry, writeDockerConfig, type TestRegistry } from "../harness/index.ts";
import { sigmirror, type CliResult } from "../lib/cli.ts";
import type { ScenarioImage } from "../lib/scenario.ts";
import { hostOf, promote, readReport, replicationGaps, signedSubjects } from "./lib.ts";

const secret = (who: string) => `pw-${who}-${randomBytes(9).toString("hex")}`;
/** Anything shaped like a JWT (a bearer token) in output is a leak. */
const jwtShape = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./;

describe("credentials from --registry-config, TLS from --registry-ca", () => {
  let dir: string;
  let primary: TestRegistry;
  let htpasswd: TestRegistry;
  let tlsToken: TestRegistry;
  let images: ScenarioImage[];
  let thinDir: string;
  let config: string;
  const users = {
    primary: { username: "promoter", password: secret("primary") },
    htpasswd: { username: "mirror-a", password: secret("htpasswd") },
    tls: { username: "mirror-b", password: secret("tls") },
  };
  const wrongPassword = secret("wrong");
  /** Everything any run printed or reported, for the secrets check at the end. */
  const outputs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sigmirror-auth-"));
    primary = await startRegistry({ auth: "token", users: [users.primary] });
    htpasswd = await startRegistry({ auth: "htpasswd", users: [users.htpasswd] });
    tlsToken = await startRegistry({ auth: "token", tls: true, users: [users.tls] });
    ({ images, thinDir } = await promote(dir, primary, [htpasswd, tlsToken], { signed: 3, unsigned: 1, indexes: 1 }));
    config = writeDockerConfig(dir, [primary, htpasswd, tlsToken]);
  }, 60_000);
  afterAll(async () => {
    for (const r of [primary, htpasswd, tlsToken]) await r?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const s = () => ({ primary, images });
  const ca = () => `${tlsToken.host}=${tlsToken.caFile ?? ""}`;
  /** No ambient Docker credentials: an empty DOCKER_CONFIG and HOME. */
  const isolated = () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".docker"), { recursive: true });
    return { DOCKER_CONFIG: join(home, ".docker"), HOME: home };
  };
  async function run(verb: "replicate" | "verify", extra: string[], name: string): Promise<CliResult & { report: string }> {
    const reportFile = join(dir, `${name}.json`);
    const junitFile = join(dir, `${name}.xml`);
    const r = await sigmirror(
      [verb, "--thin-manifest-dir", thinDir, "--primary", primary.host, "--ledger", join(dir, "state.db"), "--report", reportFile, "--junit", junitFile, ...extra],
      { env: isolated() },
    );
    let report = "";
    try {
      report = readFileSync(reportFile, "utf8");
      outputs.push(readFileSync(junitFile, "utf8"));
    } catch {
      // exit 2 writes no report
    }
    outputs.push(r.out, r.err, report);
    return { ...r, report };
  }

  test("without credentials the primary refuses: exit 1, failures name the host", async () => {
    const r = await run("replicate", ["--registry-ca", ca()], "anonymous");
    expect(r.code).toBe(1);
    const report = readReport(join(dir, "anonymous.json"));
    expect(report.failures.some((f) => f.host === primary.host)).toBe(true);
    expect(report.copied).toBe(0);
  });

  test("a TLS registry without --registry-ca is not reached (loopback is plain HTTP): its pairs fail", async () => {
    const r = await run("replicate", ["--registry-config", config, "--only-host", tlsToken.host], "no-ca");
    expect(r.code).toBe(1);
    const report = readReport(join(dir, "no-ca.json"));
    expect(report.copied).toBe(0);
    expect(report.failures.length).toBeGreaterThan(0);
    expect(report.failures.every((f) => f.host === tlsToken.host)).toBe(true);
    expect(report.failures.some((f) => f.reason.includes("speaks HTTPS, give --registry-ca"))).toBe(true);
  });

  test("with --registry-config and --registry-ca: a cold run copies everything, the next one nothing, verify 0", async () => {
    const cold = await run("replicate", ["--registry-config", config, "--registry-ca", ca()], "cold");
    expect(cold.code).toBe(0);
    expect(await replicationGaps(s(), [htpasswd, tlsToken])).toEqual([]);
    const report = readReport(join(dir, "cold.json"));
    expect(report.copied).toBe(signedSubjects(images).length * 2);
    // Bearer tokens were fetched for both token hosts (counted on the registry host they serve).
    expect(hostOf(report, primary.host).requests).toBeGreaterThan(0);
    expect(primary.tokenServer?.requests().some((t) => t.user === users.primary.username && t.status === 200)).toBe(true);
    expect(tlsToken.tokenServer?.requests().some((t) => t.user === users.tls.username && t.scope.some((x) => x.includes("push")))).toBe(true);

    const warm = await run("replicate", ["--registry-config", config, "--registry-ca", ca()], "warm");
    expect(warm.code).toBe(0);
    expect(readReport(join(dir, "warm.json")).copied).toBe(0);
    const verify = await run("verify", ["--registry-config", config, "--registry-ca", ca()], "verify");
    expect(verify.code).toBe(0);
    expect(verify.err).toContain("drift 0");
  });

  test("a wrong password for one mirror: that mirror fails, the others are checked, exit 1", async () => {
    const wrongDir = join(dir, "wrong");
    mkdirSync(wrongDir, { recursive: true });
    const good = JSON.parse(readFileSync(config, "utf8")) as { auths: Record<string, { auth: string }> };
    good.auths[htpasswd.host] = { auth: Buffer.from(`${users.htpasswd.username}:${wrongPassword}`).toString("base64") };
    const wrongConfig = join(wrongDir, "config.json");
    writeFileSync(wrongConfig, JSON.stringify(good), { mode: 0o600 });
    // JSON log lines too must carry no credential (checked with everything else at the end).
    const r = await run("verify", ["--registry-config", wrongConfig, "--registry-ca", ca(), "--log-format", "json"], "wrong");
    expect(r.code).toBe(1);
    const report = readReport(join(dir, "wrong.json"));
    expect(report.failures.length).toBeGreaterThan(0);
    expect(report.failures.every((f) => f.host === htpasswd.host)).toBe(true);
    expect(report.failures.some((f) => f.reason.includes("401"))).toBe(true);
    expect(hostOf(report, tlsToken.host).failed).toBe(0);
  });

  test("no password, Basic credential or bearer token appears in any stdout, stderr (text or JSON), report or JUnit file", () => {
    const text = outputs.join("\n");
    expect(text.length).toBeGreaterThan(1000);
    const secrets = [wrongPassword, ...Object.values(users).map((u) => u.password)];
    for (const u of [users.primary, users.htpasswd, users.tls]) secrets.push(Buffer.from(`${u.username}:${u.password}`).toString("base64"));
    secrets.push(Buffer.from(`${users.htpasswd.username}:${wrongPassword}`).toString("base64"));
    for (const x of secrets) {
      expect(x.length).toBeGreaterThan(10);
      expect(text.includes(x)).toBe(false);
    }
    expect(text).not.toMatch(jwtShape);
    expect(text).not.toMatch(/authorization:/i);
  });
});
