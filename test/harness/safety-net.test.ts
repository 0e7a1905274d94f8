import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { cleanEnv } from "../lib/cli.ts";

const fixture = resolve(import.meta.dir, "fixtures/leaky-registry.ts");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await Bun.sleep(20);
  return !alive(pid);
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<{ pid: number; dir: string }> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return JSON.parse(text.split("\n")[0] ?? "{}") as { pid: number; dir: string };
}

test("a process that exits without stop() leaves no registry and no directory behind", async () => {
  const child = Bun.spawn([process.execPath, fixture, "token", "exit"], { env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  const info = await firstLine(child.stdout);
  expect(await child.exited).toBe(0);
  expect(await waitGone(info.pid)).toBe(true);
  expect(existsSync(info.dir)).toBe(false);
});

test("a SIGKILLed test process takes its registry with it (parent-death signal)", async () => {
  const child = Bun.spawn([process.execPath, fixture, "anonymous", "hang"], { env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  try {
    const info = await firstLine(child.stdout);
    expect(alive(info.pid)).toBe(true);
    child.kill("SIGKILL");
    await child.exited;
    expect(await waitGone(info.pid)).toBe(true);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
