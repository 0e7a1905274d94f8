// Loopback addresses for test servers: a random 127.a.b.c per server, so parallel test runs
// on one machine (several helpers at once) do not collide on 127.0.0.1.
import { createServer } from "node:net";

export interface LoopbackAddress {
  readonly ip: string;
  readonly port: number;
}

function octet(): number {
  return 1 + Math.floor(Math.random() * 254); // 1..254: never 0 (network) nor 255 (broadcast)
}

function randomLoopbackIp(): string {
  for (;;) {
    const [a, b, c] = [octet(), octet(), octet()];
    if (a === 0 && b === 0 && c === 1) continue; // unreachable with 1..254, kept for intent: never 127.0.0.1
    return `127.${a}.${b}.${c}`;
  }
}

/** Binds port 0 on ip, returns the kernel's choice, and closes again. */
function freePortOn(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: ip, port: 0, exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      server.close((err) => (err ? reject(err) : port > 0 ? resolve(port) : reject(new Error(`no port on ${ip}`))));
    });
  });
}

/** Returns true when nothing listens on ip:port (a fresh bind succeeds). */
export async function isFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function allocateLoopback(): Promise<LoopbackAddress> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const ip = randomLoopbackIp();
    try {
      return { ip, port: await freePortOn(ip) };
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`allocateLoopback: no free loopback port after 5 tries: ${String(lastError)}`);
}

/** "ip:port" as written in image references (no brackets: always IPv4). */
export function hostOf(addr: LoopbackAddress): string {
  return `${addr.ip}:${addr.port}`;
}
