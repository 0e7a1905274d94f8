// `WWW-Authenticate` (RFC 9110 §11.6.1): what a registry wants before it answers.

export type Challenge =
  | { readonly scheme: "basic"; readonly realm?: string }
  | {
      readonly scheme: "bearer";
      readonly realm: string;
      readonly service?: string;
      /** Scopes the server named (space-separated in the header). */
      readonly scopes: readonly string[];
      /** `insufficient_scope`, `invalid_token`, ... */
      readonly error?: string;
    };

interface Parsed {
  scheme: string;
  params: Map<string, string>;
}

/** All challenges of a header value, in order (a header may hold several). */
function parseChallenges(header: string): Parsed[] {
  const out: Parsed[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && /[\s,]/.test(header[i] ?? "")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z/]/.test(header[i] ?? "")) i++;
    return header.slice(start, i);
  };
  let current: Parsed | undefined;
  for (let guard = 0; i < n && guard < 1000; guard++) {
    skipSpace();
    const name = token();
    if (name === "") {
      i++;
      continue;
    }
    while (i < n && header[i] === " ") i++;
    if (header[i] === "=" && current !== undefined) {
      i++;
      while (i < n && header[i] === " ") i++;
      let value = "";
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const vs = i;
        while (i < n && header[i] !== ",") i++;
        value = header.slice(vs, i).trim();
      }
      current.params.set(name.toLowerCase(), value);
    } else {
      current = { scheme: name.toLowerCase(), params: new Map() };
      out.push(current);
    }
  }
  return out;
}

/** The challenge we can answer (Bearer preferred over Basic); undefined if none. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (header === null || header.trim() === "") return undefined;
  const all = parseChallenges(header);
  const bearer = all.find((c) => c.scheme === "bearer" && c.params.has("realm"));
  if (bearer !== undefined) {
    const scope = bearer.params.get("scope");
    const service = bearer.params.get("service");
    const error = bearer.params.get("error");
    return {
      scheme: "bearer",
      realm: bearer.params.get("realm") ?? "",
      ...(service !== undefined ? { service } : {}),
      scopes: scope === undefined ? [] : scope.split(" ").filter((s) => s !== ""),
      ...(error !== undefined ? { error } : {}),
    };
  }
  const basic = all.find((c) => c.scheme === "basic");
  if (basic !== undefined) {
    const realm = basic.params.get("realm");
    return realm === undefined ? { scheme: "basic" } : { scheme: "basic", realm };
  }
  return undefined;
}
