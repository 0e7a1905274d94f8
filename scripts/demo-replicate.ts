// `make demo`, the replicate part: three registries on loopback, a cold run that copies, a warm run
// that sends nothing, a re-signed image repaired, a verify; then everything stopped.
// Uses the test harness to start the registries and push content; sigmirror itself is dist/sigmirror.
import { spawnSync } from "node:child_process";
import { pushSignature, readManifest, sigTag } from "../test/harness/index.ts";
import { fallbackTagOf, pushReferrer } from "../test/harness/referrers.ts";
import { cleanEnv } from "../test/lib/cli.ts";
import { startScenario } from "../test/lib/scenario.ts";

const binary = process.env["SIGMIRROR_BIN"] ?? "dist/sigmirror";

function step(title: string): void {
  console.log(`\n== ${title}`);
}

function sigmirror(args: string[], env: Record<string, string> = {}): number {
  const shown = Object.entries(env).map(([k, v]) => `${k}=${v} `).join("");
  console.log(`$ ${shown}sigmirror ${args.join(" ")}`);
  const r = spawnSync(binary, args, { stdio: "inherit", env: cleanEnv(env) });
  console.log(`(exit ${r.status})`);
  return r.status ?? 1;
}

const s = await startScenario({ mirrors: 2, signed: 3, unsigned: 1, indexes: 1 });
let failed = false;
try {
  step(`registries: primary ${s.primary.host}, mirrors ${s.mirrors.map((m) => m.host).join(", ")}`);
  console.log(`manifests: ${s.thinDir} (${s.images.length} images; ${s.images.filter((i) => !i.signature).length} unsigned, one multi-arch index)`);

  // kpromo's provenance attestation: a Sigstore bundle pushed as an OCI 1.1 referrer, on the primary only.
  const attested = s.images.find((i) => i.signature !== undefined && i.children.length === 0);
  const referrer = attested === undefined ? undefined : await pushReferrer(s.primary, attested.repository, attested.image, { seed: "demo-provenance" });
  if (attested !== undefined && referrer !== undefined) {
    console.log(`provenance attestation of ${attested.repository}@${attested.image.digest}: referrer ${referrer.digest} (on the primary only)`);
  }

  step("plan (no network)");
  failed ||= sigmirror(["plan", "--thin-manifest-dir", s.thinDir, "--primary", s.primary.host]) !== 0;

  step("cold run: copies every signature and the attestation referrer to both mirrors");
  failed ||= sigmirror(s.args("replicate")) !== 0;
  if (attested !== undefined && referrer !== undefined) {
    for (const m of s.mirrors) {
      const index = await readManifest(m, attested.repository, fallbackTagOf(attested.image.digest));
      const listed = index !== undefined && new TextDecoder().decode(index.bytes).includes(referrer.digest);
      const served = (await readManifest(m, attested.repository, referrer.digest)) !== undefined;
      console.log(`${m.host}: referrer ${served ? "served by digest" : "MISSING"}, ${listed ? "listed in its fallback index" : "NOT LISTED"}`);
      failed ||= !(served && listed);
    }
  }

  step("the run right after: nothing to the mirrors; the primary re-reads only young signatures and the unsigned digest");
  await s.clearLogs();
  failed ||= sigmirror(s.args("replicate")) !== 0;
  console.log(`requests the registries saw (their access logs): ${JSON.stringify(await s.requests())}`);

  // The test-only clock stands in for waiting: two days on, signatures have settled.
  step("two days later (test clock): one run re-reads what has come due, then nothing is due");
  failed ||= sigmirror(s.args("replicate"), { SIGMIRROR_TEST_CLOCK_OFFSET: "48h" }) !== 0;
  await s.clearLogs();
  failed ||= sigmirror(s.args("replicate"), { SIGMIRROR_TEST_CLOCK_OFFSET: "49h" }) !== 0;
  console.log(`requests the registries saw during the warm run: ${JSON.stringify(await s.requests())}`);

  const img = s.images.find((i) => i.signature !== undefined && i.children.length === 0);
  if (img !== undefined) {
    step(`re-sign ${img.repository} on the primary (a second signature appended), repair with --reverify-after 0s`);
    const resigned = await pushSignature(s.primary, img.repository, img.image.digest, { keepExisting: true });
    console.log(`primary ${sigTag(img.image.digest)} now ${resigned.digest}`);
    failed ||= sigmirror(s.args("replicate", "--reverify-after", "0s")) !== 0;
  }

  step("verify: a live audit of every pair");
  failed ||= sigmirror(s.args("verify")) !== 0;

  step("ledger stats");
  failed ||= sigmirror(["ledger", "stats", "--ledger", s.ledger]) !== 0;
} finally {
  await s.stop();
  step("stopped every registry");
}
process.exit(failed ? 1 : 0);
