// tags/list through the fault proxy's emulation of Artifact Registry: `Link` pagination and the
// `manifest` digest map, computed from the real registry behind it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pushImage, pushSignature, sigTag, startFaultProxy, startRegistry, type FaultProxy, type TestRegistry } from "../harness/index.ts";
import { client, closeClients } from "./lib.ts";

let reg: TestRegistry;
let proxy: FaultProxy;
const expected = new Map<string, string>();

beforeAll(async () => {
  reg = await startRegistry();
  proxy = await startFaultProxy({ upstream: reg.url, googleListing: { pageSize: 3 } });
  for (let i = 0; i < 4; i++) {
    const img = await pushImage(reg, "g/app", { tag: `v${i}` });
    expected.set(`v${i}`, img.digest);
    const sig = await pushSignature(reg, "g/app", img.digest);
    expected.set(sigTag(img.digest), sig.digest);
  }
});
afterAll(async () => {
  closeClients();
  await proxy?.stop();
  await reg?.stop();
});

test("all pages are followed, and every tag comes with its digest", async () => {
  const c = client();
  const list = await c.listTags(proxy.host, "g/app");
  expect(list?.tags.sort()).toEqual([...expected.keys()].sort());
  expect(list?.complete).toBe(true);
  expect(new Map([...(list?.digests ?? new Map<string, string>())].sort())).toEqual(new Map([...expected].sort()));
  const pages = proxy.records().filter((r) => r.path.includes("/tags/list"));
  expect(pages.length).toBe(3);
  expect(pages[1]?.path).toContain("last=");
});
