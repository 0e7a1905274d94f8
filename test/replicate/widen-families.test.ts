// Widening --tag-suffixes on a warm ledger: the primary is re-read for the new family at once,
// not taken as "no .att" from runs that never looked for one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pushAttestation, readManifest, sigTag } from "../harness/index.ts";
import { sigmirror } from "../lib/cli.ts";
import { startScenario, type Scenario } from "../lib/scenario.ts";

describe("--tag-suffixes widened on a warm ledger", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario({ mirrors: 1, signed: 1, unsigned: 0, indexes: 0 });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("a new family is looked for at once, and copied", async () => {
    const img = s.images[0];
    const mirror = s.mirrors[0];
    if (img === undefined || mirror === undefined) throw new Error("scenario");
    const att = await pushAttestation(s.primary, img.repository, img.image.digest);
    expect((await sigmirror(s.args("replicate"))).code).toBe(0);
    // Settled and warm: nothing due for a day.
    expect((await sigmirror(s.args("replicate"), { env: { SIGMIRROR_TEST_CLOCK_OFFSET: "100h" } })).code).toBe(0);
    const r = await sigmirror(s.args("replicate", "--tag-suffixes", "sig,att"), { env: { SIGMIRROR_TEST_CLOCK_OFFSET: "101h" } });
    expect(r.code).toBe(0);
    expect((await readManifest(mirror, img.repository, sigTag(img.image.digest, "att")))?.digest).toBe(att.digest);
  });
});
