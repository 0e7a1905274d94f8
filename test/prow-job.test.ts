// The example periodic in deploy/prow/ is consistent with itself, the image and the timing budget.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { parseDuration } from "../src/cli/args.ts";
import { parseLedgerRef } from "../src/ledger-store/ref.ts";
import { repoRoot, sigmirror } from "./lib/cli.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

const doc = obj(load(readFileSync(join(repoRoot, "deploy/prow/sigmirror-periodic.yaml"), "utf8")));
const job = obj(arr(doc["periodics"])[0]);
const spec = obj(job["spec"]);
const container = obj(arr(spec["containers"])[0]);
const args = arr(container["args"]).map(str);

function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function ms(text: string | undefined): number {
  const v = parseDuration(text ?? "");
  if (v === undefined) throw new Error(`not a duration: ${text}`);
  return v;
}

describe("deploy/prow/sigmirror-periodic.yaml", () => {
  test("one periodic, every 30 minutes, never two at once, decorated", () => {
    expect(arr(doc["periodics"])).toHaveLength(1);
    expect(job["interval"]).toBe("30m");
    expect(job["max_concurrency"]).toBe(1);
    expect(job["decorate"]).toBe(true);
  });

  test("the run ends by --max-duration + --wind-down, well before the timeout, within the interval", () => {
    const dc = obj(job["decoration_config"]);
    const timeout = ms(str(dc["timeout"]));
    const grace = ms(str(dc["grace_period"]));
    const maxDuration = ms(flag("--max-duration"));
    // sigmirror ends by D + W whatever the registries do: in-flight requests are aborted, the ledger
    // committed and pushed, the reports written within W (default 30s, at most 60s).
    const windDown = ms(flag("--wind-down") ?? "30s");
    expect(windDown).toBeLessThanOrEqual(60_000);
    // A minute for the pod to start and clone the manifests before sigmirror's clock starts.
    expect(maxDuration + windDown + 60_000).toBeLessThanOrEqual(timeout);
    expect(grace).toBeGreaterThanOrEqual(60_000);
    expect(timeout + grace).toBeLessThanOrEqual(ms(str(job["interval"])));
  });

  test("an explicit command that is the image's entrypoint (a decorated job ignores ENTRYPOINT)", () => {
    const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
    const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
    expect(entrypoint).toBeDefined();
    expect(arr(container["command"])).toEqual(JSON.parse(entrypoint ?? "[]") as unknown[]);
    expect(args[0]).toBe("replicate");
  });

  test("the manifests come from an extra_ref, cloned where the job reads them", () => {
    const refs = arr(job["extra_refs"]).map(obj);
    expect(refs).toContainEqual({ org: "kubernetes", repo: "k8s.io", base_ref: "main" });
    expect(flag("--thin-manifest-dir")).toStartWith("/home/prow/go/src/github.com/kubernetes/k8s.io/");
  });

  test("a pod that starts empty: ledger in a writable place and a stored ledger ref; reports to $ARTIFACTS", () => {
    expect(flag("--primary")).toBe("us-central1-docker.pkg.dev");
    expect(flag("--ledger")).toStartWith("/tmp/");
    expect(flag("--ledger-ref")).toMatch(/^[a-z0-9.-]+-docker\.pkg\.dev\/[^/]+\/[^:]+:[\w.-]+$/);
    const mounts = arr(container["volumeMounts"]).map(obj);
    expect(mounts.map((m) => m["mountPath"])).toContain("/tmp");
    expect(args.some((a) => a.startsWith("$(ARTIFACTS)/"))).toBe(true);
  });

  test("workload identity and bounded resources; runs as the image's nonroot user", () => {
    expect(str(spec["serviceAccountName"])).not.toBe("");
    const resources = obj(container["resources"]);
    expect(obj(resources["requests"])["memory"]).toBeDefined();
    expect(obj(resources["limits"])["memory"]).toBeDefined();
    expect(obj(container["securityContext"])["runAsUser"]).toBe(65532);
  });

  test("every flag in the job's args is one that `sigmirror replicate --help` lists", async () => {
    const help = await sigmirror(["replicate", "--help"]);
    expect(help.code).toBe(0);
    // The flag column of the help: "  --name ARG   description" (and "-h, --help").
    const listed = new Set([...help.out.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]));
    expect(listed).toContain("--help");
    expect(listed).toContain("--thin-manifest-dir");
    const used = args.filter((a) => a.startsWith("-")).map((a) => a.split("=")[0] ?? a);
    expect(used.length).toBeGreaterThanOrEqual(5);
    expect(used.filter((f) => !listed.has(f))).toEqual([]);
  });

  test("the --ledger-ref value is one sigmirror accepts once <project> is filled in", () => {
    // The example names the project as a placeholder the release engineer replaces.
    const ref = (flag("--ledger-ref") ?? "").replace("<project>", "k8s-infra-sigmirror");
    const parsed = parseLedgerRef(ref);
    expect(parsed?.host).toBe("us-central1-docker.pkg.dev");
    expect(parsed?.repository).toEndWith("/sigmirror/ledger");
  });
});
