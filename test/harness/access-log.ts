// Parses distribution's access log: Apache combined format written to stdout by the gorilla
// logging handler that wraps the whole app, so every request appears (401s and HEADs too),
// once its response is complete. Timestamps there have 1 s resolution.
export interface AccessEntry {
  readonly method: string;
  /** Request target as sent, query included ("/v2/a/blobs/uploads/?mount=..."). */
  readonly path: string;
  readonly status: number;
  /** ms since the epoch, from the log's timestamp: 1 s resolution (floor), completion time. */
  readonly time: number;
  readonly bytes: number;
  readonly userAgent: string;
}

const months: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

// 127.0.0.1 - - [01/Dec/2026:18:03:34 +0000] "GET /v2/ HTTP/1.1" 401 87 "" "curl/7.88.1"
const line = /^\S+ \S+ \S+ \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-) "(?:[^"\\]|\\.)*" "((?:[^"\\]|\\.)*)"$/;

function parseTime(m: RegExpExecArray): number {
  const n = (i: number): number => Number(m[i]);
  const month = months[m[2] ?? ""] ?? 0;
  const offsetMin = (m[7] === "-" ? -1 : 1) * (n(8) * 60 + n(9));
  return Date.UTC(n(3), month, n(1), n(4), n(5), n(6)) - offsetMin * 60_000;
}

export function parseAccessLine(text: string): AccessEntry | undefined {
  const m = line.exec(text);
  if (!m) return undefined;
  return {
    method: m[10] ?? "",
    path: m[11] ?? "",
    status: Number(m[12]),
    time: parseTime(m),
    bytes: m[13] === "-" ? 0 : Number(m[13]),
    userAgent: (m[14] ?? "").replace(/\\(.)/g, "$1"),
  };
}

/** Complete lines only: a trailing partial line (still being written) is left for later. */
export function parseAccessLog(text: string): AccessEntry[] {
  const lines = text.split("\n");
  lines.pop();
  const out: AccessEntry[] = [];
  for (const l of lines) {
    const e = parseAccessLine(l);
    if (e) out.push(e);
  }
  return out;
}

export function countByMethod(entries: readonly AccessEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of entries) counts[e.method] = (counts[e.method] ?? 0) + 1;
  return counts;
}
