// The simulated day of bench/peers.ts (issue 11 section 1): after a tool's cold, next and settled
// runs, BENCH_DAY_RUNS (48) more runs 30 minutes apart on the same mirrors. Before each run ~1% new
// images are promoted (primary and mirrors, same digests; signed on the primary, one in four a run
// later as a lagging signer does), every 3rd run an old image gets one more bundle attestation
// (a referrer, listed in the primary's fallback index) and every 6th run one more legacy .att layer
// (appended, as `cosign attest` does). The changes are deterministic (same seeds => same digests),
// and the primary's storage is put back to its state before the day after each tool's day, so every
// tool sees the same primary at its cold run and the same changes during its day. sigmirror's
// clock moves 30 minutes a run (SIGMIRROR_TEST_CLOCK_OFFSET), so its re-verify windows elapse as in
// real life; a peer just reruns. Requests per host come from the access logs, summed over the day.
// BENCH_DAY_LOG=FILE appends every request of the day: tool, run, host, method, status, path.
import { createHash } from "node:crypto";
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pushAttestation, pushBlob, readManifest, type AccessEntry, type TestRegistry } from "../test/harness/index.ts";
import { pushReferrer } from "../test/harness/referrers.ts";
import { PROJECT_PATH } from "../test/lib/scenario.ts";
import { pad, ratio } from "./lib-cli.ts";
import type { Job, Peer } from "./lib-peer-tools.ts";
import { checkMirror, expectedFrom, fingerprint, listed, missingTotal, promoteOne, REPOSITORIES, writerSign, type BenchImage, type Missing } from "./lib-peers.ts";

export const DAY_RUNS = Math.max(0, Number(process.env["BENCH_DAY_RUNS"] ?? "48"));
const DAY_LOG = process.env["BENCH_DAY_LOG"] ?? "";
const NEW_FRACTION = 0.01;
const REFERRER_EVERY = 3;
const ATT_EVERY = 6;

/**
 * A copy of the primary's storage (distribution keeps no cache here: its files are its whole state).
 * The empty config `{}` goes into every repository first: the harness pushes it once per repository
 * and process, so a repository whose first referrer came in a day (then rolled back) would lack it.
 * A blob no manifest names: no tool reads or copies it.
 */
export async function snapshotPrimary(reg: TestRegistry): Promise<string> {
  await Promise.all(REPOSITORIES.map((name) => pushBlob(reg, `${PROJECT_PATH}/${name}`, new TextEncoder().encode("{}"))));
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-peers-primary-"));
  cpSync(join(reg.dir, "storage"), join(dir, "storage"), { recursive: true });
  return dir;
}

/** Puts the snapshot back while the registry is idle: the next tool starts from the same primary. */
export function restorePrimary(reg: TestRegistry, snapshot: string): void {
  rmSync(join(reg.dir, "storage"), { recursive: true, force: true });
  cpSync(join(snapshot, "storage"), join(reg.dir, "storage"), { recursive: true });
}

/** An attestation added to an old image during the day. */
interface Late {
  readonly round: number;
  readonly kind: "referrer" | ".att";
  readonly repository: string;
  readonly subject: string;
  /** The referrer's digest, or the .att tag's new digest. */
  readonly digest: string;
  readonly tag?: string;
}

export interface DayFigures {
  readonly runs: number;
  /** Requests per host over the day: primary, mirror1..3. */
  readonly perHost: number[];
  readonly perRun: number[];
  /** Request kinds over the day: primary, mirrors together. */
  readonly kinds: [Map<string, number>, Map<string, number>];
  readonly wall: number;
  readonly cpu: number;
  readonly maxRssKiB: number;
  readonly load: [number, number];
  readonly exits: string[];
  readonly added: { images: number; subjects: number; referrers: number; atts: number };
  readonly missing: Missing[];
  /** (late attestation, mirror) pairs missing at the day's end, and the rounds they were added in. */
  readonly lateMissing: number;
  readonly lateRounds: number[];
  readonly seconds: number;
  /** sha256 of the primary's tags and referrers at the day's end: the same for every tool when they saw the same day. */
  readonly primaryAtEnd: string;
}

/** Method, what was asked for, and the answer's status: "HEAD manifest .sig tag 404". */
export function dayKind(e: AccessEntry): string {
  const path = e.path.split("?")[0] ?? e.path;
  let what = "other";
  if (path === "/v2/" || path === "/v2") what = "/v2/";
  else if (path.endsWith("/tags/list")) what = "tags/list";
  else if (path.includes("/referrers/")) what = "referrers API";
  else if (path.includes("/blobs/uploads")) what = "upload";
  else if (path.includes("/blobs/")) what = "blob";
  else if (path.includes("/manifests/")) {
    const ref = decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
    what = ref.startsWith("sha256:") ? "manifest by digest" : /\.(sig|att|sbom)$/.test(ref) ? `manifest ${ref.slice(ref.lastIndexOf("."))} tag` : /^sha256-[0-9a-f]{64}$/.test(ref) ? "manifest fallback tag" : "manifest image tag";
  }
  return `${e.method} ${what} ${e.status}`;
}

const add = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

/** The day's changes before run `round`, the same for every tool. */
class DayChanges {
  private carry = 0;
  private serial = 0;
  private lagging: { img: BenchImage; n: number }[] = [];
  private readonly old: BenchImage[];
  private readonly used = { referrer: new Set<number>(), ".att": new Set<number>() };
  readonly late: Late[] = [];
  readonly added = { images: 0, subjects: 0, referrers: 0, atts: 0 };

  constructor(private readonly job: Job) {
    // Old images signed by the writers (not the cosign sample: its signatures stay as cosign made them).
    this.old = job.images.filter((i) => i.how.startsWith("writer"));
  }

  async before(round: number): Promise<void> {
    const { primary, mirrors, images } = this.job;
    for (const { img, n } of this.lagging) await writerSign(primary, img, n);
    this.carry += images.length * NEW_FRACTION;
    const count = Math.floor(this.carry);
    this.carry -= count;
    const plan = Array.from({ length: count }, (_, k) => {
      const s = this.serial + k;
      return { name: REPOSITORIES[s % REPOSITORIES.length] ?? "pause", tag: `v2.${round}.${k}`, index: s % 10 === 9, n: s };
    });
    this.serial += count;
    // Promoted on every host (same digests), a host's pushes in order (distribution refuses concurrent uploads of one blob in one repository).
    const pushed = await Promise.all([primary, ...mirrors.map((m) => m.reg)].map(async (reg) => {
      const out: BenchImage[] = [];
      for (const p of plan) out.push(await promoteOne(reg, p));
      return out;
    }));
    const fresh = pushed[0] ?? [];
    this.lagging = [];
    for (const [k, img] of fresh.entries()) {
      const n = plan[k]?.n ?? 0;
      if (n % 4 === 3) this.lagging.push({ img, n });
      else await writerSign(primary, img, n);
      this.added.subjects += 1 + img.children.length;
    }
    this.added.images += fresh.length;
    images.push(...fresh);
    if (round % REFERRER_EVERY === REFERRER_EVERY - 1) await this.attest(round, "referrer");
    if (round % ATT_EVERY === ATT_EVERY - 1) await this.attest(round, ".att");
  }

  /** One more attestation on an old image, spread over them (a stride), each image at most once per kind. */
  private async attest(round: number, kind: Late["kind"]): Promise<void> {
    const used = this.used[kind];
    let k = (this.late.length * 37 + (kind === ".att" ? 11 : 0)) % Math.max(1, this.old.length);
    while (used.has(k) && used.size < this.old.length) k = (k + 1) % this.old.length;
    const img = this.old[k];
    if (img === undefined) return;
    used.add(k);
    const { primary } = this.job;
    const seed = `day:${kind}:${round}`;
    if (kind === "referrer") {
      const r = await pushReferrer(primary, img.repository, img.image, { seed });
      this.late.push({ round, kind, repository: img.repository, subject: img.image.digest, digest: r.digest });
      this.added.referrers++;
    } else {
      const a = await pushAttestation(primary, img.repository, img.image.digest, { seed, keepExisting: true });
      this.late.push({ round, kind, repository: img.repository, subject: img.image.digest, digest: a.digest, tag: `${img.image.digest.replace(":", "-")}.att` });
      this.added.atts++;
    }
  }
}

/** The day for one tool on its job's mirrors (after its cold/next/settled runs); the caller restores the primary. */
export async function runDay(job: Job, peer: Peer, runs: number, note: (s: string) => void): Promise<DayFigures> {
  const t0 = performance.now();
  const changes = new DayChanges(job);
  const hosts = [job.primary, ...job.mirrors.map((m) => m.reg)];
  const perHost = hosts.map(() => 0);
  const perRun: number[] = [];
  const kinds: [Map<string, number>, Map<string, number>] = [new Map(), new Map()];
  const exits: string[] = [];
  let wall = 0;
  let cpu = 0;
  let maxRssKiB = 0;
  const loadBefore = loadavg()[0] ?? 0;
  for (let round = 0; round < runs; round++) {
    await changes.before(round);
    await Promise.all(hosts.map((h) => h.clearLog()));
    const r = await peer.run(peer.dayEnv?.(round) ?? {});
    const logs = await Promise.all(hosts.map((h) => h.accessLog()));
    let total = 0;
    for (const [i, entries] of logs.entries()) {
      perHost[i] = (perHost[i] ?? 0) + entries.length;
      total += entries.length;
      for (const e of entries) add(kinds[i === 0 ? 0 : 1], dayKind(e));
    }
    perRun.push(total);
    if (DAY_LOG !== "") {
      const label = (i: number): string => (i === 0 ? "primary" : `mirror${i}`);
      appendFileSync(DAY_LOG, logs.flatMap((entries, i) => entries.map((e) => `${peer.name}\t${round + 1}\t${label(i)}\t${e.method}\t${e.status}\t${e.path}\n`)).join(""));
    }
    if (r.run.code !== 0) exits.push(`run ${round + 1}: exit ${r.run.code}`);
    wall += r.run.time?.seconds ?? r.run.ms / 1000;
    cpu += r.run.time?.cpuSeconds ?? 0;
    maxRssKiB = Math.max(maxRssKiB, r.run.time?.maxRssKiB ?? 0);
    if ((round + 1) % 12 === 0 || round === runs - 1) note(`${peer.name} day: ${round + 1}/${runs} runs, ${perRun.reduce((a, b) => a + b, 0)} requests so far, load ${(loadavg()[0] ?? 0).toFixed(2)}`);
  }
  const load: [number, number] = [loadBefore, loadavg()[0] ?? 0];
  const expected = await expectedFrom(job.primary);
  const missing = await Promise.all(job.mirrors.map((m) => checkMirror(m, expected)));
  let lateMissing = 0;
  const lateRounds = new Set<number>();
  for (const l of changes.late) {
    for (const m of job.mirrors) {
      const there = l.tag === undefined
        ? (await readManifest(m.reg, l.repository, l.digest)) !== undefined && (await listed(m, l.repository, l.subject)).includes(l.digest)
        : (await readManifest(m.reg, l.repository, l.tag))?.digest === l.digest;
      if (!there) {
        lateMissing++;
        lateRounds.add(l.round + 1);
      }
    }
  }
  return {
    runs, perHost, perRun, kinds, wall, cpu, maxRssKiB, load, exits, added: changes.added, missing, lateMissing,
    lateRounds: [...lateRounds].sort((a, b) => a - b), seconds: (performance.now() - t0) / 1000,
    primaryAtEnd: createHash("sha256").update(fingerprint(expected)).digest("hex").slice(0, 12),
  };
}

export interface DayRow {
  readonly tool: string;
  readonly day: DayFigures | undefined;
  /** Why the tool had no day. */
  readonly skipped?: string;
}

const dayComplete = (d: DayFigures): boolean => d.missing.every((m) => missingTotal(m) === 0);
const classTotal = (d: DayFigures, c: 0 | 1): number => (c === 0 ? (d.perHost[0] ?? 0) : d.perHost.slice(1).reduce((a, b) => a + b, 0));
const total = (d: DayFigures): number => d.perHost.reduce((a, b) => a + b, 0);

export function printDay(log: (s: string) => void, rows: readonly DayRow[]): void {
  const first = rows.find((r) => r.day !== undefined)?.day;
  log("");
  if (first === undefined) {
    log(`simulated day: not run (${rows.map((r) => `${r.tool}: ${r.skipped ?? "?"}`).join("; ") || "BENCH_DAY_RUNS=0"})`);
    return;
  }
  log(
    `simulated day: ${first.runs} runs 30 minutes apart after each tool's settled run (sigmirror's clock +4h .. +${(240 + 30 * (first.runs - 1)) / 60}h; peers rerun); ` +
      `over the day ${first.added.images} new images (${first.added.subjects} subjects, ~1% per run, one in four signed a run later), ` +
      `${first.added.referrers} new bundle attestations and ${first.added.atts} appended legacy .att on old images; the same changes for every tool`,
  );
  log(`${"tool".padEnd(18)} ${pad("primary", 8)} ${pad("mirror1", 8)} ${pad("mirror2", 8)} ${pad("mirror3", 8)} ${pad("mirrors", 8)} ${pad("total", 8)} ${pad("per run", 8)} ${pad("wall s", 7)} ${pad("cpu s", 7)} ${pad("RSS MiB", 8)} ${pad("load", 11)}  at the day's end`);
  for (const r of rows) {
    const d = r.day;
    if (d === undefined) {
      log(`${r.tool.padEnd(18)} skipped: ${r.skipped ?? "?"}`);
      continue;
    }
    const miss = d.missing.map(missingTotal);
    const end = dayComplete(d)
      ? "COMPLETE"
      : `INCOMPLETE: missing ${miss.join("/")} on mirror1/2/3${d.lateMissing > 0 ? `; of those ${d.lateMissing} (attestation, mirror) pairs added to old images in runs ${d.lateRounds.join(",")}` : ""}`;
    log(
      `${r.tool.padEnd(18)} ${d.perHost.map((n) => pad(n, 8)).join(" ")} ${pad(classTotal(d, 1), 8)} ${pad(total(d), 8)} ${pad((total(d) / d.runs).toFixed(0), 8)} ` +
        `${pad(d.wall.toFixed(1), 7)} ${pad(d.cpu.toFixed(1), 7)} ${pad((d.maxRssKiB / 1024).toFixed(0), 8)} ${pad(`${d.load[0].toFixed(2)}->${d.load[1].toFixed(2)}`, 11)}  ${end}${d.exits.length > 0 ? `; ${d.exits.slice(0, 3).join(", ")}` : ""}`,
    );
  }
  log("(wall and CPU: the tool's runs summed, GNU time; RSS: the largest run's peak; the bench's own pushes between runs are not counted)");
  const ends = [...new Set(rows.flatMap((r) => (r.day === undefined ? [] : [r.day.primaryAtEnd])))];
  log(`(the primary at the day's end, sha256 of its tags and referrers: ${ends.length === 1 ? `${ends[0] ?? ""} for every tool: they saw the same day` : `DIFFERS between tools: ${rows.map((r) => `${r.tool} ${r.day?.primaryAtEnd ?? "-"}`).join(", ")}`})`);
  for (const r of rows) {
    if (r.day === undefined) continue;
    const top = (m: Map<string, number>): string => [...m].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
    log(`  ${r.tool} day by kind, primary: ${top(r.day.kinds[0])}`);
    log(`  ${r.tool} day by kind, mirrors: ${top(r.day.kinds[1])}`);
  }
  const sm = rows.find((r) => r.tool === "sigmirror")?.day;
  if (sm !== undefined) log(`  sigmirror requests per run: ${sm.perRun.join(" ")}`);
  const regsyncs = rows.filter((r): r is DayRow & { day: DayFigures } => r.tool.startsWith("regsync") && r.day !== undefined && dayComplete(r.day));
  const cheapest = regsyncs.sort((a, b) => total(a.day) - total(b.day))[0];
  if (sm === undefined || cheapest === undefined) {
    log(`ratios: a day's requests: ${sm === undefined ? "sigmirror had no day" : "no complete regsync configuration to compare with"}`);
    return;
  }
  const c = cheapest.day;
  log(
    `ratios: a day's requests (${sm.runs} runs), sigmirror / the cheapest complete regsync configuration (${cheapest.tool}): ${total(sm)} / ${total(c)} = ${ratio(total(sm), total(c))} (goal <= 0.1)` +
      `${dayComplete(sm) ? "" : " (sigmirror INCOMPLETE at the day's end: see above)"}; primary ${ratio(classTotal(sm, 0), classTotal(c, 0))}, mirrors ${ratio(classTotal(sm, 1), classTotal(c, 1))}; ` +
      `wall ${ratio(sm.wall, c.wall)}, CPU ${ratio(sm.cpu, c.cpu)}`,
  );
}
