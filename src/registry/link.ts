// RFC 8288 `Link` headers: where the next page of a listing is.

/** The `rel="next"` target resolved against the page's URL; undefined on the last page. */
export function nextLink(header: string | null, base: URL): URL | undefined {
  if (header === null) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m) continue;
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(m[2] ?? "");
    if (rel && (rel[1] ?? "").split(/\s+/).includes("next")) {
      try {
        return new URL(m[1] ?? "", base);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
