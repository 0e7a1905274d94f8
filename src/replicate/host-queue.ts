// Engine-side gate per registry host: bounds the work in flight for that host (so a paused host's
// work waits in its own line, not in everyone's), starts nothing once the run is stopping, and
// gives up on a host that keeps failing so that every other host is still completed.

export class Stopped extends Error {
  override readonly name = "Stopped";
  constructor() {
    super("run stopping: not started");
  }
}

export class HostGivenUp extends Error {
  override readonly name = "HostGivenUp";
  constructor(
    readonly host: string,
    readonly why: string,
  ) {
    super(`${host}: given up for this run after repeated failures (${why})`);
  }
}

export interface HostQueueOptions {
  readonly limit: (host: string) => number;
  readonly stopping: () => boolean;
  /** Consecutive failures (after the client's own retries) before a host is given up. */
  readonly giveUpAfter: number;
  /** Which errors count against a host: refused, timeouts, 5xx. Not 404s, not conflicts, not 429s. */
  readonly isHostFailure: (err: unknown) => boolean;
}

interface Line {
  active: number;
  readonly waiting: (() => void)[];
  consecutiveFailures: number;
  givenUp: string | undefined;
}

export class HostQueues {
  private readonly lines = new Map<string, Line>();
  constructor(private readonly o: HostQueueOptions) {}

  private line(host: string): Line {
    let l = this.lines.get(host);
    if (l === undefined) this.lines.set(host, (l = { active: 0, waiting: [], consecutiveFailures: 0, givenUp: undefined }));
    return l;
  }

  givenUp(host: string): string | undefined {
    return this.lines.get(host)?.givenUp;
  }

  /** Runs `fn` when `host` has room; throws Stopped or HostGivenUp instead of starting it. */
  async run<T>(host: string, fn: () => Promise<T>): Promise<T> {
    const l = this.line(host);
    if (l.active >= this.o.limit(host)) await new Promise<void>((resume) => l.waiting.push(resume));
    l.active++;
    try {
      if (l.givenUp !== undefined) throw new HostGivenUp(host, l.givenUp);
      if (this.o.stopping()) throw new Stopped();
      const result = await fn();
      l.consecutiveFailures = 0;
      return result;
    } catch (err) {
      if (!(err instanceof Stopped) && !(err instanceof HostGivenUp) && this.o.isHostFailure(err)) {
        l.consecutiveFailures++;
        if (l.consecutiveFailures >= this.o.giveUpAfter && l.givenUp === undefined) {
          l.givenUp = err instanceof Error ? (err.message.split("\n")[0] ?? "failure") : String(err);
        }
      }
      throw err;
    } finally {
      l.active--;
      l.waiting.shift()?.();
    }
  }
}
