// Shared by this directory's tests: temp dirs, helper scripts, RSA keys. No Bun APIs here
// (it lives under src/); the fake servers are in the test files.
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TempDir {
  readonly path: string;
  file(name: string, text: string, mode?: number): string;
  remove(): void;
}

export function tempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `sigmirror-${prefix}-`));
  return {
    path,
    file(name, text, mode) {
      const p = join(path, name);
      writeFileSync(p, text);
      if (mode !== undefined) chmodSync(p, mode);
      return p;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Writes an executable `docker-credential-<name>` shell script into dir. */
export function writeHelper(dir: TempDir, name: string, body: string): string {
  return dir.file(`docker-credential-${name}`, `#!/bin/sh\n${body}\n`, 0o755);
}

export interface RsaPair {
  readonly privatePem: string;
  readonly publicPem: string;
}

export function rsaPair(): RsaPair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

export function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** A PATH with only dir and the system's basic tools (sh, cat). */
export function pathWith(dir: TempDir): string {
  return `${dir.path}:/usr/bin:/bin`;
}
