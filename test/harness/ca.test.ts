import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCA } from "./ca.ts";
import { allocateLoopback } from "./net.ts";
import { runTool } from "./tool.ts";

test("issued certificates carry SAN IP, chain to the CA, and serve TLS that only the CA's holders trust", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sigmirror-ca-test-"));
  try {
    const ca = await createTestCA(dir);
    const addr = await allocateLoopback();
    const leaf = await ca.issue(addr.ip);
    const text = await runTool(["openssl", "x509", "-in", leaf.certFile, "-noout", "-ext", "subjectAltName,basicConstraints"]);
    expect(text).toContain(`IP Address:${addr.ip}`);
    expect(text).toContain("CA:FALSE");
    expect((await runTool(["openssl", "verify", "-CAfile", ca.caFile, leaf.certFile])).trim()).toBe(`${leaf.certFile}: OK`);
    await expect(ca.issue("example.com")).rejects.toThrow(/IPv4/);

    const server = Bun.serve({
      hostname: addr.ip,
      port: addr.port,
      tls: { cert: readFileSync(leaf.certFile, "utf8"), key: readFileSync(leaf.keyFile, "utf8") },
      fetch: () => new Response("ok"),
    });
    try {
      const url = `https://${addr.ip}:${addr.port}/`;
      expect(await (await fetch(url, { tls: { ca: readFileSync(ca.caFile, "utf8") } })).text()).toBe("ok");
      expect(await fetch(url).then(() => "trusted", () => "refused")).toBe("refused");
      const other = await createTestCA(mkdtempSync(join(dir, "other-")));
      expect(await fetch(url, { tls: { ca: readFileSync(other.caFile, "utf8") } }).then(() => "trusted", () => "refused")).toBe("refused");
    } finally {
      await server.stop(true);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
