// Every request says who sent it, so quota use can be attributed to sigmirror.
import type { RoundTrip } from "./types.ts";
import { withHeader } from "./types.ts";

export function userAgentLayer(next: RoundTrip, userAgent: string): RoundTrip {
  return (req) => next(withHeader(req, "user-agent", userAgent));
}
