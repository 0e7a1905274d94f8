// The one redaction rule: whatever reaches a log line, a report, a JUnit file or an error message
// passes through redact(), so a credential that slipped into text (a token endpoint's body, a URL
// with a query, a header dump) is masked before anyone sees it.
// It lives outside both src/registry and src/log because both use it and neither may depend on
// the other: the registry client knows nothing of logs, and logs know nothing of registries.

/** What every masked value becomes, in logs and errors alike. */
export const masked = "***";

// Every password and token the client has handled, so that no message can carry one even where
// no pattern below would spot it. Process-wide on purpose: an error may be formatted far from the
// client that made it. Indexed by the first `minLength` characters so that scanning a line costs
// its length, not the number of secrets (a long run remembers thousands of tokens).
const known = new Set<string>();
const byPrefix = new Map<string, Set<string>>();
const maxKnown = 10_000;

/** Secrets shorter than this are not scrubbed (they would mangle ordinary text). */
const minLength = 4;

function forget(secret: string): void {
  known.delete(secret);
  const prefix = secret.slice(0, minLength);
  const bucket = byPrefix.get(prefix);
  bucket?.delete(secret);
  if (bucket?.size === 0) byPrefix.delete(prefix);
}

function remember(secret: string): void {
  if (known.has(secret)) return;
  if (known.size >= maxKnown) {
    const oldest = known.values().next();
    if (oldest.done !== true) forget(oldest.value);
  }
  known.add(secret);
  const prefix = secret.slice(0, minLength);
  const bucket = byPrefix.get(prefix) ?? new Set<string>();
  bucket.add(secret);
  byPrefix.set(prefix, bucket);
}

/** Masks `secret` in every later redact(), as is and URL-encoded (a form body echoed back). */
export function rememberSecret(secret: string | undefined): void {
  if (secret === undefined || secret.length < minLength) return;
  for (const form of [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)]) remember(form);
}

function maskKnown(text: string): string {
  if (known.size === 0) return text;
  const found = new Set<string>();
  for (let i = 0; i + minLength <= text.length; i++) {
    const bucket = byPrefix.get(text.slice(i, i + minLength));
    if (bucket === undefined) continue;
    for (const s of bucket) if (text.startsWith(s, i)) found.add(s);
  }
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...found].sort((a, b) => b.length - a.length)) out = out.split(s).join(masked);
  return out;
}

// Keys whose string value is a secret in itself, whatever it looks like.
const secretKey = /authorization|password|passwd|secret|token|credential|cookie|^auth$|identitytoken/i;
// A key whose value is a secret, in text or a query: access_token, password, client_secret...
const secretName = String.raw`[A-Za-z_-]*(?:token|password|passwd|secret)`;

// token68 (RFC 7235) after an auth scheme; not a challenge's `realm="..."` parameter.
const schemeValue = /\b(Bearer|Basic)(\s+)(?![A-Za-z_][A-Za-z0-9_-]*=(?:"|[^\s=,;"]))[A-Za-z0-9._~+/-]+=*/gi;
// A header or `authorization=` pair: its scheme and credentials (not the rest of the line).
const authorizationHeader = /\b(authorization|proxy-authorization)(\s*[:=]\s*)("?)(?:[A-Za-z][A-Za-z0-9-]*[ \t]+)?[^\s"\\,;]+/gi;
// key=value in queries and forms, key: value in messages and dumps, the value maybe quoted:
// access_token=..., password: ..., client_secret="..."
const keyValue = new RegExp(String.raw`\b(${secretName})([ \t]*[:=][ \t]*"?)[^&\s"'\\,;()[\]{}]+`, "gi");
// JSON members: "token": "...", "access_token":"...", "auth": "..." (docker config.json)
const jsonMember = new RegExp(String.raw`("(?:${secretName}|auth|authorization)"\s*:\s*")((?:[^"\\]|\\.)*)"`, "gi");
// userinfo in URLs: https://user:pass@host
const userinfo = /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@"\\]+:)[^@\s/"\\]+@/gi;

/**
 * `text` with every remembered secret, Bearer/Basic value, Authorization header, secret-named
 * key=value or key: value, JSON member and URL password masked. Idempotent, and leaves the text's
 * shape (JSON, lines) intact.
 */
export function redact(text: string): string {
  return maskKnown(text)
    .replace(jsonMember, (_m, head: string) => `${head}${masked}"`)
    .replace(authorizationHeader, (_m, name: string, sep: string, quote: string) => `${name}${sep}${quote}${masked}`)
    .replace(schemeValue, (_m, scheme: string, space: string) => `${scheme}${space}${masked}`)
    .replace(keyValue, (_m, key: string, sep: string) => `${key}${sep}${masked}`)
    .replace(userinfo, (_m, head: string) => `${head}${masked}@`);
}

/** True when a field of this name holds a secret: its value is masked whole. */
export function isSecretKey(key: string): boolean {
  return secretKey.test(key);
}
