// `sigmirror --help` startup, compiled binary against the same source run by bun, side by side.
// Reproduce: make build && node_modules/.bin/bun bench/help.ts
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const runs = Number(process.env["BENCH_RUNS"] ?? 30);
const binary = "dist/sigmirror";
if (!existsSync(binary)) {
  console.error("bench/help: dist/sigmirror missing; run `make build` first");
  process.exit(2);
}

function medianMs(cmd: string, args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: "ignore" });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

const compiled = medianMs(binary, ["--help"]);
const fromSource = medianMs(process.execPath, ["src/main.ts", "--help"]);
const floor = medianMs("/bin/true", []);
console.log(`help: dist/sigmirror --help median ${compiled.toFixed(1)} ms over ${runs} runs (target well under 20 ms)`);
console.log(`help: bun src/main.ts --help median ${fromSource.toFixed(1)} ms; compiled/source ratio ${(compiled / fromSource).toFixed(2)}`);
console.log(`help: /bin/true median ${floor.toFixed(1)} ms (process spawn floor)`);
console.log(`help: reproduce with: make build && node_modules/.bin/bun bench/help.ts`);
