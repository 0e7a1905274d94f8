// Credential helpers the Docker config names for the run's hosts but PATH lacks: found at start,
// without running any helper.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createCredentialProvider } from "./index.ts";
import { b64, pathWith, tempDir, writeHelper } from "./test-support.ts";

const dir = tempDir("missing-helpers");
afterAll(() => dir.remove());
const ran = join(dir.path, "ran");
// Would leave a trace if it were run: the check must only look it up.
writeHelper(dir, "present", `touch "${ran}"; exit 1`);

function configWith(name: string, doc: unknown): string {
  return dir.file(name, JSON.stringify(doc));
}

const perHost = configWith("per-host.json", {
  credHelpers: { "gone.example": "nosuch", "here.example": "present", "https://scheme.example": "nosuch" },
  auths: { "inline.example": { auth: b64("u:p") } },
});
const withStore = configWith("store.json", {
  credsStore: "nosuch",
  credHelpers: { "here.example": "present" },
  auths: { "inline.example": { auth: b64("u:p") } },
});

describe("missingHelpers", () => {
  const cases: [string, string, string[], { program: string; origin: string; hosts: string[] }[]][] = [
    ["a credHelpers entry naming a missing helper", perHost, ["gone.example", "here.example"], [
      { program: "docker-credential-nosuch", origin: `credHelpers in ${perHost}`, hosts: ["gone.example"] },
    ]],
    ["the key normalised as the provider does (scheme, case)", perHost, ["SCHEME.example"], [
      { program: "docker-credential-nosuch", origin: `credHelpers in ${perHost}`, hosts: ["scheme.example"] },
    ]],
    ["only the hosts asked about", perHost, ["here.example", "inline.example", "other.example"], []],
    ["credsStore for every host without its own helper or inline entry, hosts listed once", withStore, ["a.example", "here.example", "inline.example", "b.example", "a.example"], [
      { program: "docker-credential-nosuch", origin: `credsStore in ${withStore}`, hosts: ["a.example", "b.example"] },
    ]],
    ["no hosts", withStore, [], []],
  ];
  for (const [name, config, hosts, want] of cases) {
    test(name, () => {
      const provider = createCredentialProvider({ env: { PATH: pathWith(dir) }, dockerConfigFile: config });
      expect(provider.missingHelpers(hosts)).toEqual(want);
    });
  }

  test("a helper that is there is looked up, never run", async () => {
    const provider = createCredentialProvider({ env: { PATH: pathWith(dir) }, dockerConfigFile: perHost });
    expect(provider.missingHelpers(["here.example"])).toEqual([]);
    expect(await Bun.file(ran).exists()).toBe(false);
  });

  test("an empty PATH finds no helper", () => {
    const provider = createCredentialProvider({ env: {}, dockerConfigFile: perHost });
    expect(provider.missingHelpers(["here.example"]).map((m) => m.program)).toEqual(["docker-credential-present"]);
  });
});
