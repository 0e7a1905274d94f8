import { expect, test } from "bun:test";
import { redirectLayer } from "./redirect.ts";
import type { HttpRequest, HttpResponse, RoundTrip } from "./types.ts";

function hops(map: Record<string, [number, string?]>): { inner: RoundTrip; seen: HttpRequest[] } {
  const seen: HttpRequest[] = [];
  const inner: RoundTrip = async (req): Promise<HttpResponse> => {
    seen.push(req);
    const [status, location] = map[req.url.href] ?? [200];
    return { status, headers: new Headers(location ? { location } : {}), body: new Uint8Array(0), url: req.url };
  };
  return { inner, seen };
}

const start = (method: "GET" | "PUT" = "GET"): HttpRequest => ({
  method,
  url: new URL("https://reg.example/v2/a/blobs/sha256:1"),
  headers: new Headers({ authorization: "Bearer T", accept: "*/*" }),
  ...(method === "PUT" ? { body: new Uint8Array([1]) } : {}),
});

test("Authorization stays with its host: same-host hops keep it, storage gets none", async () => {
  const h = hops({
    "https://reg.example/v2/a/blobs/sha256:1": [307, "/v2/a/blobs/sha256:1?r=1"],
    "https://reg.example/v2/a/blobs/sha256:1?r=1": [302, "https://storage.example/bucket/x?sig=abc"],
  });
  const res = await redirectLayer(h.inner)(start());
  expect(res.status).toBe(200);
  expect(h.seen.map((r) => [r.url.href, r.headers.get("authorization")])).toEqual([
    ["https://reg.example/v2/a/blobs/sha256:1", "Bearer T"],
    ["https://reg.example/v2/a/blobs/sha256:1?r=1", "Bearer T"],
    ["https://storage.example/bucket/x?sig=abc", null],
  ]);
  expect(h.seen[2]?.headers.get("accept")).toBe("*/*");
});

test("307 keeps method and body; 303 becomes GET", async () => {
  const h = hops({ "https://reg.example/v2/a/blobs/sha256:1": [307, "https://reg.example/other"] });
  await redirectLayer(h.inner)(start("PUT"));
  expect(h.seen[1]?.method).toBe("PUT");
  expect(h.seen[1]?.body?.length).toBe(1);
  const g = hops({ "https://reg.example/v2/a/blobs/sha256:1": [303, "https://reg.example/done"] });
  await redirectLayer(g.inner)(start("PUT"));
  expect(g.seen[1]?.method).toBe("GET");
  expect(g.seen[1]?.body).toBeUndefined();
});

test("loops, downgrades and 3xx without Location", async () => {
  const loop = hops({ "https://reg.example/v2/a/blobs/sha256:1": [302, "/v2/a/blobs/sha256:1"] });
  await expect(redirectLayer(loop.inner, 3)(start())).rejects.toThrow(/more than 3 redirects/);
  expect(loop.seen.length).toBe(4);
  const down = hops({ "https://reg.example/v2/a/blobs/sha256:1": [302, "http://reg.example/x"] });
  await expect(redirectLayer(down.inner)(start())).rejects.toThrow(/HTTPS to plain HTTP/);
  const bare = hops({ "https://reg.example/v2/a/blobs/sha256:1": [304] });
  expect((await redirectLayer(bare.inner)(start())).status).toBe(304);
});
