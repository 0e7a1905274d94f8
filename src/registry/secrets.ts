// Every password and token the client has handled, so that no message it builds can carry one.
// Process-wide on purpose: an error may be formatted far from the client that made it.

const known = new Set<string>();
const maxKnown = 10_000;

/** Secrets shorter than this are not scrubbed (they would mangle ordinary text). */
const minLength = 4;

export function rememberSecret(secret: string | undefined): void {
  if (secret === undefined || secret.length < minLength) return;
  if (known.size >= maxKnown) {
    const oldest = known.values().next();
    if (oldest.done !== true) known.delete(oldest.value);
  }
  known.add(secret);
}

const authValue = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const tokenField = /("?(?:token|access_token|refresh_token|password|identitytoken)"?\s*[:=]\s*"?)[^"\s,&}]+/gi;

/** `text` with every known secret, Authorization value and token-looking field replaced by `***`. */
export function redact(text: string): string {
  let out = text;
  for (const s of known) if (out.includes(s)) out = out.split(s).join("***");
  return out.replace(authValue, "$1 ***").replace(tokenField, "$1***");
}
