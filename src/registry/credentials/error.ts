/**
 * A credential source failed. The message is one line naming the file, helper or endpoint; it
 * never holds a secret (every message built here goes through `scrub`).
 * `input` is true when the user's own file or setting is wrong (the CLI exits 2 before sending
 * anything); false when a source failed at run time (a helper, a token endpoint).
 */
export class CredentialError extends Error {
  override readonly name = "CredentialError";
  constructor(
    message: string,
    readonly input: boolean,
  ) {
    super(message);
  }
}

/** Whitespace collapsed to one line, cut to `max` characters. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/**
 * Every occurrence of a known secret, as is or URL-encoded (a form body echoed back), replaced
 * by `***`. Secrets shorter than 4 characters are left alone: they would mangle the text.
 */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s === undefined || s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s), new URLSearchParams({ s }).toString().slice(2)])) {
      out = out.split(form).join("***");
    }
  }
  return out;
}

/** The message of a thrown value, for wrapping in our own one-line errors. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
