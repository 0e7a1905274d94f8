// A loopback HTTP server that answers every request 404 and counts them: end-to-end tests point
// manifests at it to prove that bad input is refused before the first request.
import type { Server } from "bun";

export interface CountingServer {
  /** `127.0.0.1:<port>`, as written in image names (loopback: plain HTTP). */
  readonly host: string;
  /** Requests received so far. */
  requests(): number;
  stop(): Promise<void>;
}

export function startCountingServer(): CountingServer {
  let count = 0;
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      count++;
      return new Response('{"errors":[{"code":"NAME_UNKNOWN","message":"counting server"}]}', {
        status: 404,
        headers: { "content-type": "application/json" },
      });
    },
  });
  return {
    host: `127.0.0.1:${server.port}`,
    requests: () => count,
    stop: () => server.stop(true),
  };
}
