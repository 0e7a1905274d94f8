// Last line of defence: whatever reaches a log line, a report or a JUnit file passes through here,
// so a credential that slipped into an error message (a token endpoint's body, a URL with a query,
// a header dump) is masked before it is written.

export const masked = "[REDACTED]";

// Keys whose string value is a secret in itself, whatever it looks like.
const secretKey = /authorization|password|passwd|secret|token|credential|cookie|^auth$|identitytoken/i;

// token68 (RFC 7235) after an auth scheme; not a challenge's `realm="..."` parameter.
const schemeValue = /\b(Bearer|Basic)(\s+)(?![A-Za-z_][A-Za-z0-9_-]*=(?:"|[^\s=,;"]))[A-Za-z0-9._~+/-]+=*/gi;
// A header or `authorization=` pair: its scheme and credentials (not the rest of the line).
const authorizationHeader = /\b(authorization|proxy-authorization)(\s*[:=]\s*)("?)(?:[A-Za-z][A-Za-z0-9-]*[ \t]+)?[^\s"\\,;]+/gi;
// key=value in queries, forms and messages: access_token=..., password=..., client_secret=...
const keyValue = /\b([A-Za-z_-]*(?:token|password|passwd|secret))=([^&\s"'\\,;()[\]{}]+)/gi;
// JSON members: "token": "...", "access_token":"...", "auth": "..." (docker config.json)
const jsonMember = /("(?:[A-Za-z_-]*(?:token|password|passwd|secret)|auth|authorization)"\s*:\s*")((?:[^"\\]|\\.)*)"/gi;
// userinfo in URLs: https://user:pass@host
const userinfo = /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@"\\]+:)[^@\s/"\\]+@/gi;

/** Masks credential values in free text; idempotent, and leaves the text's shape (JSON, lines) intact. */
export function redact(text: string): string {
  return text
    .replace(jsonMember, (_m, head: string) => `${head}${masked}"`)
    .replace(authorizationHeader, (_m, name: string, sep: string, quote: string) => `${name}${sep}${quote}${masked}`)
    .replace(schemeValue, (_m, scheme: string, space: string) => `${scheme}${space}${masked}`)
    .replace(keyValue, (_m, key: string) => `${key}=${masked}`)
    .replace(userinfo, (_m, head: string) => `${head}${masked}@`);
}

/** True when a field of this name holds a secret: its value is masked whole. */
export function isSecretKey(key: string): boolean {
  return secretKey.test(key);
}
