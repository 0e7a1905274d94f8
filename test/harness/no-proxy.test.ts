import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { cleanEnv } from "../lib/cli.ts";
import { allocateLoopback, hostOf } from "./net.ts";

test("the harness works in a process whose environment names an HTTP proxy (it drops them)", async () => {
  const dead = hostOf(await allocateLoopback()); // nothing listens there
  const child = Bun.spawn([process.execPath, resolve(import.meta.dir, "fixtures/leaky-registry.ts"), "anonymous", "exit"], {
    env: cleanEnv({ HTTP_PROXY: `http://${dead}`, HTTPS_PROXY: `http://${dead}`, http_proxy: `http://${dead}` }),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(out).toContain(`"host":"127.`);
});
