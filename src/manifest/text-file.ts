// Reading one manifest file: a regular file of at most maxManifestBytes, UTF-8. Anything else
// (a FIFO that would block forever, /dev/zero that would fill memory) is refused unread.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import type { FileFault } from "./yaml.ts";

/** The whole registry.k8s.io corpus is ~2.5 MB; a manifest file larger than this is a mistake. */
export const maxManifestBytes = 64 * 1024 * 1024;
const maxManifestText = "64 MiB";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The file's text, or why it cannot be had (missing, not a regular file, too large, not UTF-8). */
export function readText(path: string): string | FileFault {
  let stats: Stats;
  try {
    // Before opening: opening a FIFO for reading blocks until a writer appears.
    stats = statSync(path);
  } catch (err) {
    return { message: readFault(err) };
  }
  const refused = refusal(stats);
  if (refused !== undefined) return { message: refused };
  let bytes: Uint8Array | string;
  try {
    bytes = readCapped(path);
  } catch (err) {
    return { message: readFault(err) };
  }
  if (typeof bytes === "string") return { message: bytes };
  try {
    return utf8.decode(bytes);
  } catch {
    return { message: "cannot read: not UTF-8 text" };
  }
}

/** Why a file with these stats is not read, if it is not. */
function refusal(stats: Stats): string | undefined {
  if (stats.isDirectory()) return "cannot read: is a directory, expected a file";
  if (!stats.isFile()) return `cannot read: not a regular file (${kindOf(stats)})`;
  if (stats.size > maxManifestBytes) return `cannot read: ${stats.size} bytes, more than a manifest file may hold (${maxManifestText})`;
  return undefined;
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a file";
}

/**
 * The bytes of a regular file, read through a non-blocking descriptor and checked again once
 * open (the path may have been replaced since it was looked at); never more than the cap plus
 * one byte (a file that grows, or a size its file system does not report, as in /proc).
 */
function readCapped(path: string): Uint8Array | string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    const refused = refusal(stats);
    if (refused !== undefined) return refused;
    // Sized for the whole file and the 0-byte read at its end, at least 64 KiB for sizes not
    // reported; a chunk is filled before another is made, so a file is read into one.
    const chunkBytes = Math.max(stats.size + 1, 1 << 16);
    const chunks: Uint8Array[] = [];
    let chunk = new Uint8Array(Math.min(chunkBytes, maxManifestBytes + 1));
    let filled = 0;
    let total = 0;
    for (;;) {
      if (filled === chunk.length) {
        chunks.push(chunk);
        chunk = new Uint8Array(Math.min(chunkBytes, maxManifestBytes + 1 - total));
        filled = 0;
      }
      const n = readSync(fd, chunk, filled, chunk.length - filled, null);
      if (n === 0) break;
      filled += n;
      total += n;
      if (total > maxManifestBytes) return `cannot read: more than a manifest file may hold (${maxManifestText})`;
    }
    chunks.push(chunk.subarray(0, filled));
    return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function readFault(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "cannot read: no such file";
    case "EISDIR":
      return "cannot read: is a directory, expected a file";
    case "EACCES":
      return "cannot read: permission denied";
    default:
      return `cannot read: ${code ?? (err instanceof Error ? err.message : String(err))}`;
  }
}
