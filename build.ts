// Compiles src/main.ts into one executable: dist/sigmirror.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

function gitCommit(): string {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty === "" ? sha : `${sha}-dirty`;
  } catch {
    return "unknown";
  }
}

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };
const outfile = process.env["SIGMIRROR_OUTFILE"] ?? "dist/sigmirror";
// SOURCE_DATE_EPOCH keeps rebuilds of one commit identical.
const epoch = process.env["SOURCE_DATE_EPOCH"];
const date = (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString().replace(/\.\d+Z$/, "Z");

const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  target: "bun",
  format: "esm",
  minify: true,
  bytecode: true,
  sourcemap: "inline",
  define: {
    SIGMIRROR_VERSION: JSON.stringify(pkg.version),
    SIGMIRROR_COMMIT: JSON.stringify(gitCommit()),
    SIGMIRROR_BUILD_DATE: JSON.stringify(date),
  },
  compile: {
    outfile,
    // An ops run in a random directory must not pick up someone's .env or bunfig.toml.
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
});

if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile} (${pkg.version}, ${gitCommit()}, ${date})`);
