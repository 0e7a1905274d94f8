// Token fetches count against Artifact Registry's quota: a run asks for one token per batch of
// repositories on each host, not one per repository.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, type Scenario } from "../lib/scenario.ts";

describe("bearer tokens on token-auth registries", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario({ auth: "token", mirrors: 1, signed: 6, unsigned: 0, indexes: 0 });
    for (const r of [s.primary, ...s.mirrors]) r.tokenServer?.clearRequests();
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("a cold run over 6 repositories fetches one token per host, each covering them all", async () => {
    const r = await sigmirror(s.args("replicate"));
    expect(r.code).toBe(0);
    expect(r.err).toContain("copied 6,");
    for (const reg of [s.primary, ...s.mirrors]) {
      const granted = reg.tokenServer?.requests().filter((t) => t.status === 200) ?? [];
      expect(granted.length).toBe(1);
      expect(granted[0]?.scope.length).toBe(6);
    }
  });
});
