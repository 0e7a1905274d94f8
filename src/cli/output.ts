import { writeSync } from "node:fs";

// process.stdout costs ~15 ms to set up in a compiled Bun binary, most of `--help`'s budget;
// a plain blocking write of the fd does not.
const pause = new Int32Array(new SharedArrayBuffer(4));

export function writeFd(fd: 1 | 2, text: string): void {
  let bytes = Buffer.from(text, "utf8");
  while (bytes.length > 0) {
    try {
      const n = writeSync(fd, bytes);
      bytes = bytes.subarray(n);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // The reader went away (`| head`): nobody is left to tell.
      if (code === "EPIPE") return;
      // A non-blocking pipe that is full: wait a moment and go on.
      if (code !== "EAGAIN") throw err;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}
