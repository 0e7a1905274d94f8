// Redirects, followed by hand so that credentials never leave the host they belong to: a blob
// redirected to object storage is fetched without the Authorization header. Each hop is a new
// request through the retry layer and the limiter of the host it goes to.
import { requestError } from "./error.ts";
import type { HttpRequest, RoundTrip } from "./types.ts";

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

export function redirectLayer(next: RoundTrip, maxRedirects = 5): RoundTrip {
  return async (first) => {
    let req: HttpRequest = first;
    for (let hop = 0; ; hop++) {
      const res = await next(req);
      const location = res.headers.get("location");
      if (!redirectStatuses.has(res.status) || location === null) return res;
      if (hop >= maxRedirects) throw requestError(first, "http", `more than ${maxRedirects} redirects`, { status: res.status });
      let url: URL;
      try {
        url = new URL(location, req.url);
      } catch {
        throw requestError(req, "http", "redirect to an invalid Location", { status: res.status });
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw requestError(req, "http", `redirect to unsupported scheme ${url.protocol}`, { status: res.status });
      }
      if (req.url.protocol === "https:" && url.protocol === "http:") {
        throw requestError(req, "http", `redirect from HTTPS to plain HTTP (${url.host}) refused`, { status: res.status });
      }
      const headers = new Headers(req.headers);
      if (url.origin !== first.url.origin) headers.delete("authorization");
      // 303 (and 301/302 after a POST, as browsers do) turn into a GET without body.
      const toGet = res.status === 303 || ((res.status === 301 || res.status === 302) && req.method === "POST");
      if (toGet) {
        headers.delete("content-type");
        const { body: _dropped, ...rest } = req;
        req = { ...rest, method: req.method === "HEAD" ? "HEAD" : "GET", url, headers };
      } else {
        req = { ...req, url, headers };
      }
    }
  };
}
