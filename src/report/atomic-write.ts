// Output files written whole or not at all: a temporary file beside the target, renamed over it.
import { renameSync, unlinkSync, writeFileSync } from "node:fs";

/** Writes `text` to `path` via `path.tmp-<pid>`; on any failure the temporary file is removed and the error rethrown. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text, "utf8");
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never made, or already gone
    }
    throw err;
  }
}
