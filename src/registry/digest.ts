// Content digests: computed with WebCrypto (same in Bun and Deno), compared as strings.

const digestPattern = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(text: string): boolean {
  return digestPattern.test(text);
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `sha256:<hex>` of bytes, or sha512 when `like` is a sha512 digest. */
export async function digestOf(bytes: Uint8Array, like?: string): Promise<string> {
  const algorithm = like?.startsWith("sha512:") ? "sha512" : "sha256";
  const sum = await crypto.subtle.digest(algorithm === "sha512" ? "SHA-512" : "SHA-256", bytes);
  return `${algorithm}:${hex(sum)}`;
}

/** The referrers fallback tag (and cosign's tag stem): `sha256:abc` -> `sha256-abc`. */
export function digestTag(digest: string): string {
  const colon = digest.indexOf(":");
  const alg = digest.slice(0, colon).slice(0, 32).replace(/[^a-zA-Z0-9_.-]/g, "-");
  const enc = digest.slice(colon + 1).slice(0, 64).replace(/[^a-zA-Z0-9_.-]/g, "-");
  return `${alg}-${enc}`;
}
