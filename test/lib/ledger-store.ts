// A scenario plus a registry that stores the ledger (--ledger-ref), and fresh "pods": each run
// in a new empty directory, as every Prow pod starts.
import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRegistry, type TestRegistry } from "../harness/index.ts";
import { startScenario, type Scenario, type ScenarioOptions } from "./scenario.ts";

export const LEDGER_REPO = "sigmirror/ledger";

export interface LedgerStore {
  readonly s: Scenario;
  readonly store: TestRegistry;
  /** `STORE/sigmirror/ledger:latest` */
  readonly ref: string;
  /** A new empty working directory. */
  pod(): string;
  /** `replicate` with the manifests, primary and --ledger-ref, no --ledger. */
  args(...extra: string[]): string[];
}

/** Registers beforeAll/afterAll in the calling describe; the fields are ready inside tests. */
export function useLedgerStore(options: ScenarioOptions): LedgerStore {
  const pods: string[] = [];
  let scenario: Scenario | undefined;
  let registry: TestRegistry | undefined;
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("ledger store not started (use it inside a test)");
    return v;
  };
  beforeAll(async () => {
    scenario = await startScenario(options);
    registry = await startRegistry();
  });
  afterAll(async () => {
    await scenario?.stop();
    await registry?.stop();
    for (const d of pods) rmSync(d, { recursive: true, force: true });
  });
  const self: LedgerStore = {
    get s() {
      return ready(scenario);
    },
    get store() {
      return ready(registry);
    },
    get ref() {
      return `${ready(registry).host}/${LEDGER_REPO}:latest`;
    },
    pod() {
      const d = mkdtempSync(join(tmpdir(), "sigmirror-pod-"));
      pods.push(d);
      return d;
    },
    args: (...extra) => ["replicate", "--thin-manifest-dir", self.s.thinDir, "--primary", self.s.primary.host, "--ledger-ref", self.ref, ...extra],
  };
  return self;
}
