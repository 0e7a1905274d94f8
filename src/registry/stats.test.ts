import { expect, test } from "bun:test";
import { RegistryError } from "./error.ts";
import { statsLayer, StatsStore } from "./stats.ts";
import type { HttpRequest, RoundTrip } from "./types.ts";

test("every attempt is counted by host, method and outcome, with bytes and the operation's counter", async () => {
  const store = new StatsStore();
  const answers = [200, 429, 201];
  const inner: RoundTrip = async (req) => {
    const status = answers.shift();
    if (status === undefined) throw new RegistryError({ host: req.url.host, method: req.method, kind: "network", detail: "reset" });
    return { status, headers: new Headers(), body: new Uint8Array(status === 200 ? 10 : 0), url: req.url };
  };
  const send = statsLayer(inner, store);
  const op = { requests: 0 };
  const req = (method: "GET" | "PUT", host: string): HttpRequest => ({
    method,
    url: new URL(`http://${host}/v2/`),
    headers: new Headers(),
    ...(method === "PUT" ? { body: new Uint8Array(5) } : {}),
    op,
  });
  await send(req("GET", "A:1"));
  await send(req("GET", "a:1"));
  await send(req("PUT", "b:2"));
  await expect(send(req("GET", "b:2"))).rejects.toThrow("reset");
  store.retry("a:1");
  store.tokenRequest("b:2");
  expect(op.requests).toBe(4);
  expect(store.snapshot((h) => (h === "a:1" ? 1500 : 0))).toEqual([
    {
      host: "a:1",
      requests: 2,
      byMethod: { GET: 2 },
      byStatus: { "200": 1, "429": 1 },
      byMethodStatus: { GET: { "200": 1, "429": 1 } },
      retries: 1,
      status429: 1,
      pausedMs: 1500,
      bytes: 10,
      bytesSent: 0,
      bytesReceived: 10,
      tokenRequests: 0,
    },
    {
      host: "b:2",
      requests: 2,
      byMethod: { PUT: 1, GET: 1 },
      byStatus: { "201": 1, network: 1 },
      byMethodStatus: { PUT: { "201": 1 }, GET: { network: 1 } },
      retries: 0,
      status429: 0,
      pausedMs: 0,
      bytes: 5,
      bytesSent: 5,
      bytesReceived: 0,
      tokenRequests: 1,
    },
  ]);
});
