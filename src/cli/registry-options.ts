// The flags every verb that talks to registries shares, and the RegistryConfig they make.
import { readFileSync } from "node:fs";
import type { OptionSpecs, ParsedArgs } from "./args.ts";
import { parseInteger, parsePositive, splitHostValue } from "./args.ts";
import { UsageError } from "./exit.ts";
import type { RegistryConfig } from "../registry/config.ts";
import { createCredentialProvider, CredentialError, type CredentialProviderWithExtras } from "../registry/credentials/index.ts";
import { userAgent } from "../version.ts";

/**
 * 50 requests/s per host: Artifact Registry's quota is ~1,000 requests/s per project and region,
 * shared with the promoter's signer writing to the primary; 50/s leaves that host 95% of it, and
 * each mirror region has its own quota. 8 in flight per host covers 50/s at up to ~150 ms per
 * request; 21 hosts x 8 stays under the 256 fetches Bun runs at once.
 */
export const defaultRate = 50;
export const defaultConcurrency = 8;
const minRate = 0.01;
const maxRate = 10_000;
const maxConcurrency = 128;

export const registryOptions: OptionSpecs = {
  "rate-default": {
    type: "string",
    value: "R",
    default: String(defaultRate),
    help:
      "requests per second per registry host, counted in any 1 s window, retries, token fetches and redirects included " +
      "(Artifact Registry allows ~1,000/s per project and region, shared with the signer: 50 leaves it 95%). " +
      "A 429 or 503 with Retry-After, or a spent RateLimit budget, pauses that host alone until then; " +
      "a 429 without either pauses it 1 s, doubling per further 429 up to 60 s, back to 1 s after any other answer",
  },
  rate: { type: "string", multiple: true, value: "HOST=R", help: "requests per second for one host (HOST as in image names, with :port if any)" },
  "concurrency-default": {
    type: "string",
    value: "N",
    default: String(defaultConcurrency),
    help: `requests in flight per host, 1..${maxConcurrency} (8 sustains 50/s at up to ~150 ms per request; the sum over hosts is kept under 240, as Bun queues fetches beyond 256)`,
  },
  concurrency: { type: "string", multiple: true, value: "HOST=N", help: "requests in flight for one host" },
  "registry-ca": {
    type: "string",
    multiple: true,
    value: "HOST=FILE",
    help: "verify HOST's certificate against the PEM CA bundle FILE (makes a loopback host use HTTPS too)",
  },
  "insecure-registry": {
    type: "string",
    multiple: true,
    value: "HOST",
    help:
      "HOST: plain HTTP; https://HOST: HTTPS without certificate verification. Otherwise every host is HTTPS with " +
      "verification, except loopback hosts (localhost, 127.0.0.0/8, ::1), which are plain HTTP unless --registry-ca names them; never probed",
  },
  "registry-config": {
    type: "string",
    value: "FILE",
    help:
      "Docker config.json for registry credentials (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json). " +
      "Per host: its entry there wins, then a Google access token for Google hosts, then anonymous",
  },
};

const hostPattern = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?$/;

function checkHost(args: ParsedArgs, flag: string, expected: string, host: string, raw: string): string {
  if (!hostPattern.test(host)) throw args.bad(flag, `${expected} with HOST a registry host such as us-docker.pkg.dev or 127.0.0.1:5000`, raw);
  return host.toLowerCase();
}

function perHost<T>(args: ParsedArgs, flag: string, expected: string, parse: (value: string) => T | undefined): Map<string, T> {
  const out = new Map<string, T>();
  for (const raw of args.list(flag)) {
    const split = splitHostValue(raw);
    if (split === undefined) throw args.bad(flag, expected, raw);
    const host = checkHost(args, flag, expected, split.host, raw);
    const value = parse(split.value);
    if (value === undefined) throw args.bad(flag, expected, raw);
    if (out.has(host)) throw new UsageError(`${args.verb}: --${flag}: ${host} is given more than once`, args.verb);
    out.set(host, value);
  }
  return out;
}

function rateOf(text: string): number | undefined {
  const r = parsePositive(text);
  return r !== undefined && r >= minRate && r <= maxRate ? r : undefined;
}

function caFileOf(args: ParsedArgs, raw: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new UsageError(`${args.verb}: --registry-ca: cannot read ${path} (${code}) (from ${JSON.stringify(raw)})`, args.verb);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`${args.verb}: --registry-ca: ${path} holds no PEM certificate`, args.verb);
  }
  return path;
}

/** Everything the registry client needs from the flags and environment; UsageError (exit 2) naming the flag otherwise. */
export function registryConfigFromArgs(
  args: ParsedArgs,
  env: Readonly<Record<string, string | undefined>>,
): RegistryConfig & { readonly credentials: CredentialProviderWithExtras } {
  const rateText = args.string("rate-default");
  const rateDefault = rateText === undefined ? defaultRate : rateOf(rateText);
  if (rateDefault === undefined) throw args.bad("rate-default", `requests per second between ${minRate} and ${maxRate}`, rateText);
  const concText = args.string("concurrency-default");
  const concurrencyDefault = concText === undefined ? defaultConcurrency : parseInteger(concText, 1, maxConcurrency);
  if (concurrencyDefault === undefined) throw args.bad("concurrency-default", `a whole number 1..${maxConcurrency}`, concText);

  const rates = perHost(args, "rate", `HOST=R with R requests per second between ${minRate} and ${maxRate}`, rateOf);
  const concurrency = perHost(args, "concurrency", `HOST=N with N a whole number 1..${maxConcurrency}`, (v) => parseInteger(v, 1, maxConcurrency));
  const caPaths = perHost(args, "registry-ca", "HOST=FILE", (v) => (v === "" ? undefined : v));
  const caFiles = new Map([...caPaths].map(([host, path]) => [host, caFileOf(args, `${host}=${path}`, path)]));

  const insecure = new Set<string>();
  for (const raw of args.list("insecure-registry")) {
    const m = /^(https?:\/\/)?([^/]*)\/?$/i.exec(raw.trim());
    const host = checkHost(args, "insecure-registry", "HOST or https://HOST", m?.[2] ?? "", raw);
    insecure.add(`${(m?.[1] ?? "").toLowerCase() === "https://" ? "https://" : ""}${host}`);
  }

  const dockerConfigFile = args.string("registry-config");
  let credentials;
  try {
    credentials = createCredentialProvider({ env, ...(dockerConfigFile !== undefined ? { dockerConfigFile } : {}) });
  } catch (err) {
    if (err instanceof CredentialError) {
      const flag = dockerConfigFile !== undefined ? "--registry-config: " : "";
      throw new UsageError(`${args.verb}: ${flag}${err.message}`, args.verb);
    }
    throw err;
  }
  return { userAgent, rateDefault, rates, concurrencyDefault, concurrency, caFiles, insecure, credentials };
}
