import { describe, expect, test } from "bun:test";
import { baseUrl, isLoopback, transportFor } from "./scheme.ts";

const config = (ca: Record<string, string> = {}, insecure: string[] = []) => ({
  caFiles: new Map(Object.entries(ca)),
  insecure: new Set(insecure),
});

describe("scheme", () => {
  test("loopback names, with or without port", () => {
    for (const h of ["localhost", "localhost:5000", "127.0.0.1", "127.12.3.4:443", "[::1]:5000", "::1"]) expect(isLoopback(h)).toBe(true);
    for (const h of ["128.0.0.1", "localhost.example", "10.0.0.1:5000", "gcr.io"]) expect(isLoopback(h)).toBe(false);
  });
  test("HTTPS everywhere, plain HTTP on loopback", () => {
    expect(transportFor(config(), "us-docker.pkg.dev")).toEqual({ scheme: "https", verify: true });
    expect(transportFor(config(), "127.0.0.5:5000")).toEqual({ scheme: "http", verify: true });
    expect(baseUrl(config(), "127.0.0.5:5000").href).toBe("http://127.0.0.5:5000/");
  });
  test("a CA makes loopback HTTPS and serves private CAs anywhere; matched with or without port", () => {
    expect(transportFor(config({ "127.0.0.5:5000": "/ca.pem" }), "127.0.0.5:5000")).toEqual({ scheme: "https", caFile: "/ca.pem", verify: true });
    expect(transportFor(config({ "reg.corp": "/corp.pem" }), "reg.corp:8443").caFile).toBe("/corp.pem");
    expect(transportFor(config({ "reg.corp": "/corp.pem" }), "other.corp").caFile).toBeUndefined();
  });
  test("--insecure-registry: HOST is plain HTTP, https://HOST is unverified TLS", () => {
    expect(transportFor(config({}, ["reg.lab:5000"]), "reg.lab:5000")).toEqual({ scheme: "http", verify: true });
    expect(transportFor(config({}, ["reg.lab"]), "reg.lab:5000").scheme).toBe("http");
    expect(transportFor(config({}, ["https://reg.lab"]), "reg.lab:5000")).toEqual({ scheme: "https", verify: false });
    expect(transportFor(config({}, ["reg.lab"]), "reg.other").scheme).toBe("https");
  });
});
