import { expect, test } from "bun:test";
import { countByMethod, parseAccessLine, parseAccessLog } from "./access-log.ts";

test("parseAccessLine reads distribution's combined-format lines", () => {
  const e = parseAccessLine(`127.0.0.1 - - [01/Dec/2026:18:03:34 +0000] "HEAD /v2/x/manifests/latest HTTP/1.1" 401 87 "" "curl/7.88.1"`);
  expect(e).toEqual({ method: "HEAD", path: "/v2/x/manifests/latest", status: 401, time: Date.UTC(2026, 11, 1, 18, 3, 34), bytes: 87, userAgent: "curl/7.88.1" });
  const offset = parseAccessLine(`127.0.0.1 - alice [01/Dec/2026:20:03:34 +0200] "PUT /v2/a/blobs/uploads/x?digest=sha256%3Aab HTTP/1.1" 201 0 "http://r/" "ua \\"quoted\\""`);
  expect(offset?.time).toBe(Date.UTC(2026, 11, 1, 18, 3, 34));
  expect(offset?.path).toBe("/v2/a/blobs/uploads/x?digest=sha256%3Aab");
  expect(offset?.userAgent).toBe(`ua "quoted"`);
  expect(parseAccessLine("not a log line")).toBeUndefined();
});

test("parseAccessLog keeps complete lines only and countByMethod counts them", () => {
  const line = (m: string): string => `127.0.0.1 - - [01/Dec/2026:18:03:34 +0000] "${m} /v2/ HTTP/1.1" 200 2 "" "Bun/1.4.5"`;
  const entries = parseAccessLog(`${line("GET")}\n${line("HEAD")}\n${line("HEAD")}\n${line("GET").slice(0, 30)}`);
  expect(entries).toHaveLength(3);
  expect(countByMethod(entries)).toEqual({ GET: 1, HEAD: 2 });
});
