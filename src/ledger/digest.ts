// Digests are stored as 32 raw bytes when they are sha256 (half the size of hex, and most rows are digests).

export const SHA256 = /^sha256:([0-9a-f]{64})$/;

export function digestToBlob(digest: string): Uint8Array {
  const m = SHA256.exec(digest);
  if (m?.[1] === undefined) return new TextEncoder().encode(digest);
  return Uint8Array.from(Buffer.from(m[1], "hex"));
}

