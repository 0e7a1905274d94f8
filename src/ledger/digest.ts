// Digests are stored as 32 raw bytes when they are sha256 (half the size of hex, and most rows are digests).

export const SHA256 = /^sha256:([0-9a-f]{64})$/;

export function digestToBlob(digest: string): Uint8Array {
  const m = SHA256.exec(digest);
  if (m?.[1] === undefined) return new TextEncoder().encode(digest);
  return Uint8Array.from(Buffer.from(m[1], "hex"));
}

/** digestToBlob() undone: 32 bytes are a sha256, anything else the digest's text. */
export function blobToDigest(blob: Uint8Array): string {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  return blob.length === 32 ? `sha256:${bytes.toString("hex")}` : bytes.toString("utf8");
}

