// One test CA per process, so a single caFile trusts every TLS registry the harness starts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCA, type TestCA } from "./ca.ts";
import { onProcessExit } from "./cleanup.ts";

let shared: Promise<TestCA> | undefined;

export function sharedTestCA(): Promise<TestCA> {
  if (!shared) {
    const dir = mkdtempSync(join(tmpdir(), "sigmirror-ca-"));
    onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
    shared = createTestCA(dir);
    shared.catch(() => (shared = undefined));
  }
  return shared;
}
