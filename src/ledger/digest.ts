// Digests are stored as 32 raw bytes when they are sha256 (half the size of hex, and most rows are digests).

const SHA256 = /^sha256:([0-9a-f]{64})$/;

export function digestToBlob(digest: string): Uint8Array {
  const m = SHA256.exec(digest);
  if (m?.[1] === undefined) return new TextEncoder().encode(digest);
  return Uint8Array.from(Buffer.from(m[1], "hex"));
}


/** The first 6 bytes as an integer: the digests table's index key (exact in JS and SQLite). */
export function digestPrefix(blob: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + (blob[i] ?? 0);
  return n;
}
