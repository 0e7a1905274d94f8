import { describe, expect, test } from "bun:test";
import { helperServerUrl, isGoogleHost, isLoopbackHostname, normalizeHost } from "./hosts.ts";

describe("normalizeHost", () => {
  test("strips scheme, path and case, keeps the port", () => {
    expect(normalizeHost("https://Registry.Example.com/v1/")).toBe("registry.example.com");
    expect(normalizeHost("http://localhost:5000")).toBe("localhost:5000");
    expect(normalizeHost("127.0.0.9:5000/some/path")).toBe("127.0.0.9:5000");
    expect(normalizeHost(" gcr.io ")).toBe("gcr.io");
    expect(normalizeHost("us-docker.pkg.dev")).toBe("us-docker.pkg.dev");
  });
  test("Docker Hub's names are one key", () => {
    for (const k of ["https://index.docker.io/v1/", "docker.io", "registry-1.docker.io", "index.docker.io"]) {
      expect(normalizeHost(k)).toBe("index.docker.io");
    }
    expect(helperServerUrl("index.docker.io")).toBe("https://index.docker.io/v1/");
    expect(helperServerUrl("gcr.io")).toBe("gcr.io");
  });
});

describe("isGoogleHost", () => {
  test("Artifact Registry and Container Registry", () => {
    for (const h of ["gcr.io", "eu.gcr.io", "us-docker.pkg.dev", "europe-west1-docker.pkg.dev", "https://asia-docker.pkg.dev/v2/", "GCR.IO"]) {
      expect(isGoogleHost(h)).toBe(true);
    }
  });
  test("others are not", () => {
    for (const h of ["gcr.io.example.com", "notgcr.io", "pkg.dev.evil", "registry.k8s.io", "127.0.0.1:5000", "docker.io", "pkg.dev"]) {
      expect(isGoogleHost(h)).toBe(false);
    }
  });
});

test("isLoopbackHostname", () => {
  for (const h of ["localhost", "127.0.0.1", "127.45.6.7", "[::1]", "::1"]) expect(isLoopbackHostname(h)).toBe(true);
  for (const h of ["128.0.0.1", "localhost.example", "10.0.0.1", "oauth2.googleapis.com"]) expect(isLoopbackHostname(h)).toBe(false);
});
