// When a host says to come back: `Retry-After` (delay-seconds or HTTP-date, RFC 9110 §10.2.3)
// and the RateLimit header fields (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Remaining`
// with `RateLimit-Reset`, or the structured `RateLimit: "p";r=0;t=30`).

/**
 * When (on the clock of `receivedAt`) nothing may be sent before, from `Retry-After`; undefined
 * if absent or malformed. An HTTP-date is converted through `wallNow`, the wall clock at receipt.
 */
export function retryAfterUntil(headers: Headers, receivedAt: number, wallNow = receivedAt): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^\d+$/.test(value)) return receivedAt + Number(value) * 1000;
  // An HTTP-date has whole seconds: the host means "not before that second", so we wait for it.
  if (!/^[A-Za-z]{3},/.test(value) && !/^[A-Za-z]+day,/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isFinite(date) ? receivedAt + Math.max(0, date - wallNow) : undefined;
}

function leadingInteger(value: string | null): number | undefined {
  const m = /^\s*(\d+)/.exec(value ?? "");
  return m ? Number(m[1]) : undefined;
}

/**
 * Epoch ms when a spent budget is given back, when the RateLimit fields say nothing is left;
 * undefined when they say nothing, or that there is budget left.
 */
export function rateLimitResetUntil(headers: Headers, receivedAt: number): number | undefined {
  const structured = headers.get("ratelimit");
  if (structured !== null) {
    const r = /(?:^|;)\s*r=(\d+)/.exec(structured);
    const t = /(?:^|;)\s*t=(\d+)/.exec(structured);
    if (r && t && Number(r[1]) === 0) return receivedAt + Number(t[1]) * 1000;
  }
  const remaining = leadingInteger(headers.get("ratelimit-remaining"));
  const reset = leadingInteger(headers.get("ratelimit-reset"));
  if (remaining === 0 && reset !== undefined) return receivedAt + reset * 1000;
  return undefined;
}
