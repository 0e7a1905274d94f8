// `make bench`: every benchmark script in bench/, one after the other.
import { readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";

const scripts = readdirSync("bench")
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("lib"))
  .sort();
let failed = 0;
for (const script of scripts) {
  console.log(`== bench/${script}`);
  const r = spawnSync(process.execPath, [`bench/${script}`], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
