// `GET /v2/`: is the host there, and how does it want us to authenticate.
import { errorFromResponse } from "./error.ts";
import type { Transport } from "./transport.ts";
import type { HttpRequest } from "./types.ts";

/** Resolves when the host answers as a registry (200, or 401 with its challenge learnt). */
export async function ping(t: Transport, host: string): Promise<void> {
  const req: HttpRequest = { method: "GET", url: t.endpoints(host).v2(), headers: new Headers() };
  const res = await t.send(req);
  if (res.status === 200 || res.status === 401) return;
  throw errorFromResponse(req, res, "not a registry's /v2/");
}
