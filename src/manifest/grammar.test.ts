import { describe, expect, test } from "bun:test";
import { digestProblem, isDigest, isHost, isRepositoryPath, isTag, parseRegistryName } from "./grammar.ts";

const hex64 = "0123456789abcdef".repeat(4);

describe("digests", () => {
  test("sha256: plus 64 lowercase hex, nothing else", () => {
    expect(isDigest(`sha256:${hex64}`)).toBe(true);
    for (const bad of [hex64, `sha256:${hex64.slice(1)}`, `sha256:${hex64}0`, `sha256:${hex64.toUpperCase()}`, `sha512:${hex64}`, `sha256:${hex64.slice(1)}g`, ""]) {
      expect(isDigest(bad)).toBe(false);
    }
  });
  test("the reason names what is wrong", () => {
    expect(digestProblem(hex64)).toContain("expected sha256:");
    expect(digestProblem(`sha256:${hex64.slice(1)}`)).toContain("63 hex characters");
    expect(digestProblem(`sha256:${hex64.toUpperCase()}`)).toContain("uppercase");
    expect(digestProblem(`sha256:${hex64.slice(1)}z`)).toContain("not hex");
  });
});

describe("tags", () => {
  test("OCI tag grammar, at most 128 characters", () => {
    for (const good of ["v1.0", "latest", "_x", "1.20", "A-b_c.d", "a".repeat(128), `sha256-${hex64}.sig`]) expect(isTag(good)).toBe(true);
    for (const bad of ["", "-x", ".x", "a b", "a/b", "a:b", "a".repeat(129), "é"]) expect(isTag(bad)).toBe(false);
  });
});

describe("repository paths and image names", () => {
  test("lowercase components with single separators", () => {
    for (const good of ["app", "tool/sub", "a.b", "a_b", "a__b", "a--b", "k8s-artifacts-prod/images/charts"]) {
      expect(isRepositoryPath(good)).toBe(true);
    }
    for (const bad of ["", "App", "a//b", "/a", "a/", "a/../b", "..", "a..b", "a___b", "-a", "a-", "a b", "a:b"]) {
      expect(isRepositoryPath(bad)).toBe(false);
    }
  });
});

describe("hosts and registry names", () => {
  test("host[:port] as written", () => {
    for (const good of ["r1.example", "127.0.0.2:5000", "localhost", "us-central1-docker.pkg.dev", "[::1]:5000", "Host.Example"]) {
      expect(isHost(good)).toBe(true);
    }
    for (const bad of ["", "-a.example", "a..b", "a.example:", "a.example:99999", "a.example:port", "http:", "a_b.example"]) {
      expect(isHost(bad)).toBe(false);
    }
  });
  test("splits at the first slash and keeps the port", () => {
    expect(parseRegistryName("127.0.0.2:5000/prod/images")).toEqual({ host: "127.0.0.2:5000", path: "prod/images" });
    expect(parseRegistryName("us-east1-docker.pkg.dev/k8s-artifacts-prod/images/charts")).toEqual({
      host: "us-east1-docker.pkg.dev",
      path: "k8s-artifacts-prod/images/charts",
    });
  });
  test("refuses schemes, empty parts and bad hosts, saying why", () => {
    expect(parseRegistryName("https://r1.example/prod")).toContain("scheme");
    expect(parseRegistryName("r1.example")).toContain("no repository path");
    expect(parseRegistryName("r1.example/")).toContain("empty repository path");
    expect(parseRegistryName("/prod")).toContain("empty host");
    expect(parseRegistryName("r1.example//prod")).toContain("outside the OCI name grammar");
    expect(parseRegistryName("r1.example/Prod")).toContain("outside the OCI name grammar");
    expect(parseRegistryName("bad_host/prod")).toContain("is not host[:port]");
    expect(parseRegistryName("")).toContain("empty");
  });
});
