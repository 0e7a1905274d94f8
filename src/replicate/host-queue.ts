// Engine-side gate per registry host: bounds the work in flight for that host (so a paused host's
// work waits in its own line, not in everyone's), starts nothing once the run is stopping, gives up
// on a host that keeps failing so that every other host is still completed, and remembers whether
// a host was asked at all and whether it ever answered (a host that never answered is a failure).
import { setImmediate } from "node:timers";

export class Stopped extends Error {
  override readonly name = "Stopped";
  constructor(why = "run stopping: not started") {
    super(why);
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
  /** Nothing new starts once true (a signal, the deadline, a fatal error). */
  readonly stopping: () => boolean;
  /** In-flight work was aborted (the wind-down ran out): its errors mean "not reached", not "failed". */
  readonly aborted?: () => boolean;
  /** Consecutive failures (after the client's own retries) before a host is given up. */
  readonly giveUpAfter: number;
  /** Which errors count against a host: refused, timeouts, 5xx. Not 404s, not conflicts, not 429s. */
  readonly isHostFailure: (err: unknown) => boolean;
  /** The priority of the calling work, lower first (default: all equal, arrival order). */
  readonly priorityOf?: () => number;
}

interface Waiter {
  readonly priority: number;
  readonly seq: number;
  readonly resume: () => void;
}

interface Line {
  active: number;
  /** Ordered by (priority, arrival). */
  readonly waiting: Waiter[];
  consecutiveFailures: number;
  givenUp: string | undefined;
  asked: boolean;
  answered: boolean;
}

export class HostQueues {
  private readonly lines = new Map<string, Line>();
  private arrivals = 0;
  constructor(private readonly o: HostQueueOptions) {}

  private line(host: string): Line {
    let l = this.lines.get(host);
    if (l === undefined) {
      l = { active: 0, waiting: [], consecutiveFailures: 0, givenUp: undefined, asked: false, answered: false };
      this.lines.set(host, l);
    }
    return l;
  }

  givenUp(host: string): string | undefined {
    return this.lines.get(host)?.givenUp;
  }

  /** Whether any request to `host` was started this run. */
  asked(host: string): boolean {
    return this.lines.get(host)?.asked ?? false;
  }

  /** Whether `host` answered anything this run (a 404 or a 409 is an answer; a timeout is not). */
  answered(host: string): boolean {
    return this.lines.get(host)?.answered ?? false;
  }

  /**
   * Runs `fn` when `host` has room; throws Stopped or HostGivenUp instead of starting it. Waiting
   * callers go in order of `priority` (lower first), then arrival.
   */
  async run<T>(host: string, fn: () => Promise<T>, priority = this.o.priorityOf?.() ?? 0): Promise<T> {
    const l = this.line(host);
    // A released slot is handed to the first waiter (active is not decremented in between), so a
    // caller arriving meanwhile cannot take it too.
    if (l.active >= Math.max(1, this.o.limit(host))) {
      await new Promise<void>((resume) => {
        const w: Waiter = { priority, seq: this.arrivals++, resume };
        let i = l.waiting.length;
        while (i > 0 && (l.waiting[i - 1]?.priority ?? 0) > priority) i--;
        l.waiting.splice(i, 0, w);
      });
    } else l.active++;
    try {
      if (l.givenUp !== undefined) throw new HostGivenUp(host, l.givenUp);
      if (this.o.stopping()) throw new Stopped();
      l.asked = true;
      const result = await fn();
      l.consecutiveFailures = 0;
      l.answered = true;
      return result;
    } catch (err) {
      if (err instanceof Stopped || err instanceof HostGivenUp) throw err;
      if (this.o.aborted?.() === true) throw new Stopped("run stopped: aborted in flight at the end of the wind-down");
      if (this.o.isHostFailure(err)) {
        l.consecutiveFailures++;
        if (l.consecutiveFailures >= this.o.giveUpAfter && l.givenUp === undefined) {
          l.givenUp = err instanceof Error ? (err.message.split("\n")[0] ?? "failure") : String(err);
        }
      } else {
        l.answered = true;
      }
      throw err;
    } finally {
      // Work ahead of every waiter usually asks this host again at once (a subject's tag lookup
      // after its manifest read): the slot waits one turn of the event loop for that request
      // rather than going to later work that happens to be waiting already.
      const next = l.waiting[0];
      if (next !== undefined && next.priority > priority) setImmediate(() => this.handOn(l));
      else this.handOn(l);
    }
  }

  /** The slot goes to the first waiter, or is freed. */
  private handOn(l: Line): void {
    const next = l.waiting.shift();
    if (next !== undefined) next.resume();
    else l.active--;
  }
}
