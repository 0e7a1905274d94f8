import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "./args.ts";
import { UsageError } from "./exit.ts";
import { registryConfigFromArgs, registryOptions } from "./registry-options.ts";

const dir = mkdtempSync(join(tmpdir(), "sigmirror-regopts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = join(dir, "ca.pem");
writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
const notPem = join(dir, "junk.txt");
writeFileSync(notPem, "hello");
const env = { HOME: dir };

const config = (argv: string[]) => registryConfigFromArgs(parse("replicate", argv, registryOptions, false), env);
const usage = (argv: string[]): string => {
  try {
    config(argv);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error("no UsageError");
};

describe("registry flags", () => {
  test("defaults are conservative: 50 req/s and 8 in flight per host", () => {
    const c = config([]);
    expect(c.rateDefault).toBe(50);
    expect(c.concurrencyDefault).toBe(8);
    expect(c.userAgent).toMatch(/^sigmirror\//);
    expect(c.rates.size + c.concurrency.size + c.caFiles.size + c.insecure.size).toBe(0);
  });
  test("per-host values, hosts lowercased with their port", () => {
    const c = config([
      "--rate-default", "20", "--rate", "US-docker.pkg.dev=100", "--rate", "127.0.0.1:5000=0.5",
      "--concurrency", "gcr.io=4", "--registry-ca", `127.0.0.2:5443=${ca}`,
      "--insecure-registry", "lab:5000", "--insecure-registry", "https://Lab2",
    ]);
    expect(c.rateDefault).toBe(20);
    expect([...c.rates]).toEqual([["us-docker.pkg.dev", 100], ["127.0.0.1:5000", 0.5]]);
    expect([...c.concurrency]).toEqual([["gcr.io", 4]]);
    expect([...c.caFiles]).toEqual([["127.0.0.2:5443", ca]]);
    expect([...c.insecure]).toEqual(["lab:5000", "https://lab2"]);
  });
  test("bad values are usage errors naming the flag", () => {
    expect(usage(["--rate-default", "0"])).toMatch(/^replicate: --rate-default: expected requests per second between 0.01 and 10000 \(got "0"\)$/);
    expect(usage(["--rate", "host"])).toMatch(/^replicate: --rate: expected HOST=R/);
    expect(usage(["--rate", "a b=3"])).toMatch(/^replicate: --rate: expected .* \(got "a b=3"\)$/);
    expect(usage(["--rate", "h=1", "--rate", "H=2"])).toBe("replicate: --rate: h is given more than once");
    expect(usage(["--concurrency-default", "0"])).toMatch(/^replicate: --concurrency-default: expected a whole number 1..128/);
    expect(usage(["--concurrency", "h=1.5"])).toMatch(/^replicate: --concurrency: expected HOST=N/);
    expect(usage(["--registry-ca", "h=/nonexistent/ca.pem"])).toMatch(/^replicate: --registry-ca: cannot read \/nonexistent\/ca.pem \(ENOENT\)/);
    expect(usage(["--registry-ca", `h=${notPem}`])).toMatch(/--registry-ca: .*junk.txt holds no PEM certificate$/);
    expect(usage(["--insecure-registry", "ftp://x"])).toMatch(/^replicate: --insecure-registry: expected HOST or https:\/\/HOST/);
    expect(usage(["--registry-config", join(dir, "missing.json")])).toMatch(/^replicate: --registry-config: .*missing.json/);
  });
  test("help states the defaults and why", () => {
    expect(registryOptions["rate-default"]?.default).toBe("50");
    expect(registryOptions["rate-default"]?.help).toContain("1,000/s");
    expect(registryOptions["concurrency-default"]?.help).toContain("256");
  });
});
