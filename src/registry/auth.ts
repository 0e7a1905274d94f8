// The top of the transport: adds the Authorization a host wants, learned from its challenges.
// Anonymous until a 401 says otherwise; then Basic, or a bearer token from the realm. One fresh
// token on a 401, one exact re-request on insufficient_scope.
// The first request to a host whose scheme is unknown goes alone; requests that arrive meanwhile
// wait for its answer, so a cold copy does not collect one 401 per blob.
import { basicAuthorization } from "./basic.ts";
import type { BearerTokens } from "./bearer.ts";
import { parseChallenge, type Challenge } from "./challenge.ts";
import type { CredentialProvider } from "./credentials/index.ts";
import { messageOf, requestError } from "./error.ts";
import { itemsOfScopeStrings, scopeItems } from "./scopes.ts";
import type { HttpRequest, HttpResponse, RoundTrip } from "./types.ts";
import { hostOf, withHeader } from "./types.ts";

type Known = Challenge | { readonly scheme: "none" };

interface Used {
  readonly header?: string;
  readonly token?: string;
  readonly scheme: "none" | "basic" | "bearer";
}

export interface AuthOptions {
  readonly credentials: CredentialProvider;
  readonly bearer: BearerTokens;
}

function needsAuth(res: HttpResponse): boolean {
  if (res.status === 401) return true;
  return res.status === 403 && /insufficient_scope/i.test(res.headers.get("www-authenticate") ?? "");
}

export class Authenticator {
  private readonly known = new Map<string, Known>();
  private readonly discovering = new Map<string, Promise<void>>();
  /** Hosts whose first request has come back (or failed): later ones are not held. */
  private readonly probed = new Set<string>();

  constructor(private readonly options: AuthOptions) {}

  /** What the host answered last time it challenged us (or "none"), if anything. */
  challengeOf(host: string): Known | undefined {
    return this.known.get(host);
  }

  learn(host: string, res: HttpResponse): Challenge | undefined {
    const ch = parseChallenge(res.headers.get("www-authenticate"));
    if (ch !== undefined) this.known.set(host, ch);
    else if (res.status !== 401 && !this.known.has(host)) this.known.set(host, { scheme: "none" });
    return ch;
  }

  private async basic(host: string, req: HttpRequest): Promise<Used> {
    let cred;
    try {
      cred = await this.options.credentials.forHost(host);
    } catch (err) {
      throw requestError(req, "auth", `credentials for ${host}: ${messageOf(err)}`);
    }
    if (cred === undefined) return { scheme: "none" };
    return { scheme: "basic", header: basicAuthorization(cred.username, cred.password) };
  }

  private async authorize(host: string, known: Known | undefined, req: HttpRequest, extra: readonly string[] = [], fresh = false, exact = false): Promise<Used> {
    if (known === undefined || known.scheme === "none") return { scheme: "none" };
    if (known.scheme === "basic") return this.basic(host, req);
    const needed = [...new Set([...scopeItems(req.scopes ?? []), ...extra])].sort();
    if (needed.length === 0) return { scheme: "none" };
    const token = await this.options.bearer.token(host, known, needed, { fresh, exact, op: req.op });
    return { scheme: "bearer", token, header: `Bearer ${token}` };
  }

  private async send(host: string, req: HttpRequest, next: RoundTrip): Promise<HttpResponse> {
    let used = await this.authorize(host, this.known.get(host), req);
    let res = await next(withHeader(req, "authorization", used.header));
    // Each kind of re-send at most once: answering a first challenge, replacing a refused
    // credential or token, and asking for exactly the scope the registry says is missing.
    const done = new Set<"challenge" | "refresh" | "narrow">();
    for (let round = 0; round < 3 && needsAuth(res); round++) {
      const ch = this.learn(host, res);
      if (ch === undefined) return res;
      const insufficient = ch.scheme === "bearer" && ch.error === "insufficient_scope";
      const why = insufficient ? "narrow" : used.scheme === "none" ? "challenge" : "refresh";
      if (ch.scheme === "basic") {
        if (done.has(why) || used.scheme === "basic") return res;
        done.add(why);
        used = await this.basic(host, req);
        if (used.scheme === "none") return res;
      } else {
        const serverScopes = itemsOfScopeStrings(ch.scopes);
        if ((req.scopes ?? []).length === 0 && serverScopes.length === 0) return res;
        const needed = [...new Set([...scopeItems(req.scopes ?? []), ...serverScopes])].sort();
        if (insufficient) {
          // The token lacks a scope: once more with exactly what this request needs; if even
          // that is refused, the user may not do it (remembered, so others fail at once).
          this.options.bearer.fellShort(host, needed);
          if (done.has("narrow")) {
            this.options.bearer.deny(host, needed);
            return res;
          }
          if (this.options.bearer.isDenied(host, needed)) return res;
        } else if (done.has(why)) {
          return res;
        }
        done.add(why);
        if (used.token !== undefined && !insufficient) this.options.bearer.drop(host, used.token);
        used = await this.authorize(host, ch, req, serverScopes, why !== "challenge", insufficient);
      }
      res = await next(withHeader(req, "authorization", used.header));
    }
    if (!needsAuth(res)) this.learn(host, res);
    return res;
  }

  layer(next: RoundTrip): RoundTrip {
    return async (req) => {
      const host = hostOf(req.url);
      if (!this.known.has(host) && !this.probed.has(host)) {
        const pending = this.discovering.get(host);
        if (pending !== undefined) {
          await pending;
        } else {
          let done = () => {};
          this.discovering.set(host, new Promise<void>((resolve) => (done = resolve)));
          try {
            return await this.send(host, req, next);
          } finally {
            // Held once only: a host that is down must not get its requests one at a time.
            this.probed.add(host);
            this.discovering.delete(host);
            done();
          }
        }
      }
      return this.send(host, req, next);
    };
  }
}
