// Every attempt to a host passes here: first the host's pause gate, then a bottleneck limiter
// of that host (bottleneck Group keyed by host: concurrency, and minTime spacing), then, inside
// the limiter's slot, the strict send window (window.ts). What the host answers about its
// budget (429/503 with Retry-After, RateLimit-*, bare 429s) pauses that host alone.
// bottleneck binds a job to its start time when the job gets a slot, up to `concurrency` starts
// ahead (at R = 20 and 8 slots, 0.4 s). So what it schedules is a ticket, one per waiting
// request, and a ticket takes whichever request waits with the lowest priority (priority.ts) when
// it starts: a read the engine needs first goes out at the next start, not behind every request
// queued before it.
import Bottleneck from "bottleneck";
import type { Clock } from "./clock.ts";
import { requestError, messageOf, RegistryError } from "./error.ts";
import type { PauseGate } from "./gate.ts";
import { requestPriority } from "./priority.ts";
import { rateLimitResetUntil, retryAfterUntil } from "./retry-after.ts";
import type { HttpRequest, HttpResponse, RoundTrip } from "./types.ts";
import { hostOf } from "./types.ts";
import { rateShape, SendWindow, type RateShape } from "./window.ts";

export interface LimiterOptions {
  readonly rateFor: (host: string) => number;
  readonly concurrencyFor: (host: string) => number;
  readonly rateMarginMs: number;
  /** The sum of all hosts' concurrency stays at or below this. */
  readonly maxTotalConcurrency: number;
  /** A longer pause is not waited out: the request fails as `unavailable`. */
  readonly maxPauseMs: number;
  /** No attempt runs longer (so bottleneck never drops a limiter that still has a job running). */
  readonly attemptDeadlineMs: number;
  readonly gate: PauseGate;
  readonly clock: Clock;
  readonly signal?: AbortSignal | undefined;
}

/** A request waiting for a ticket to start: kept ordered by priority, then arrival (inserted after its equals). */
interface Waiter {
  readonly priority: number;
  /** Runs the request in the ticket's slot; settles when it has (never rejects). */
  readonly start: () => Promise<void>;
  readonly fail: (err: unknown) => void;
}

interface HostState {
  readonly window: SendWindow;
  readonly shape: RateShape;
  readonly concurrency: number;
  /** As many as the tickets scheduled and not started. */
  readonly waiting: Waiter[];
  limiter?: Bottleneck;
  ready?: Promise<unknown>;
}

/** Sent when the host was paused after the job was queued: it waits in front again, slot released. */
const requeue = Symbol("requeue");

export class HostLimiter {
  private readonly hosts = new Map<string, HostState>();
  private readonly group: Bottleneck.Group;
  private allocated = 0;

  constructor(private readonly options: LimiterOptions) {
    // Group drops a limiter once no job has started on it for `timeout`; a job here is one
    // attempt (bounded by attemptDeadlineMs) plus a window wait, so a dropped limiter has no
    // job left. The pause and the send window live in our own maps and survive the drop.
    // (A window wait is at most 1/rate s; the CLI keeps rates at 0.01/s or more.)
    this.group = new Bottleneck.Group({ timeout: Math.max(15 * 60_000, 2 * options.attemptDeadlineMs + 5 * 60_000) });
  }

  private state(host: string): HostState {
    let s = this.hosts.get(host);
    if (s === undefined) {
      const wanted = Math.max(1, Math.floor(this.options.concurrencyFor(host)));
      const concurrency = Math.max(1, Math.min(wanted, this.options.maxTotalConcurrency - this.allocated));
      this.allocated += concurrency;
      const shape = rateShape(this.options.rateFor(host), this.options.rateMarginMs);
      s = { window: new SendWindow(shape), shape, concurrency, waiting: [] };
      this.hosts.set(host, s);
    }
    return s;
  }

  /** The concurrency host got (less than configured when the total would pass the cap). */
  concurrencyOf(host: string): number {
    return this.state(host.toLowerCase()).concurrency;
  }

  private limiterOf(host: string, s: HostState): { limiter: Bottleneck; ready: Promise<unknown> } {
    const limiter = this.group.key(host);
    if (limiter !== s.limiter || s.ready === undefined) {
      s.limiter = limiter;
      // Typed as returning the limiter; it returns a promise of it, settled once the settings apply.
      s.ready = Promise.resolve<unknown>(limiter.updateSettings({ maxConcurrent: s.concurrency, minTime: s.shape.minTimeMs }));
      limiter.on("error", () => undefined);
    }
    return { limiter, ready: s.ready ?? Promise.resolve() };
  }

  private async waitGate(host: string, req: HttpRequest): Promise<void> {
    const { gate, maxPauseMs, signal } = this.options;
    const tooLong = (ms: number, reason: string) =>
      requestError(req, "unavailable", `host asks to wait ${Math.ceil(ms / 1000)} s (${reason}), more than the ${Math.round(maxPauseMs / 1000)} s a request may wait`);
    try {
      await gate.wait(host, maxPauseMs, tooLong, signal);
    } catch (err) {
      throw this.aborted(err, req);
    }
  }

  private aborted(err: unknown, req: HttpRequest): unknown {
    if (err instanceof RegistryError) return err;
    if (this.options.signal?.aborted) return requestError(req, "network", `aborted (${messageOf(this.options.signal.reason)})`);
    return err;
  }

  /** What the answer says about the host's budget. */
  private observe(host: string, res: HttpResponse): void {
    const { gate, clock } = this.options;
    const now = clock.now();
    const until = retryAfterUntil(res.headers, now, clock.wallNow());
    const header = res.headers.get("retry-after");
    if (res.status === 429 || res.status === 503) {
      if (until !== undefined) {
        gate.pause(host, until, `${res.status} with Retry-After: ${header}`);
        return;
      }
    }
    const reset = rateLimitResetUntil(res.headers, now);
    if (reset !== undefined) {
      gate.pause(host, reset, `${res.status} with RateLimit budget spent`);
      return;
    }
    if (res.status === 429) gate.backoff(host);
    else if (res.status < 500) gate.success(host);
  }

  private async inSlot(host: string, s: HostState, req: HttpRequest, next: RoundTrip): Promise<HttpResponse | typeof requeue> {
    const { gate, clock, signal } = this.options;
    for (let round = 0; round < 1000; round++) {
      if (gate.remainingMs(host) > 0) return requeue;
      const delay = s.window.delayMs(clock.now());
      if (delay <= 0) break;
      try {
        await clock.sleep(delay, signal);
      } catch (err) {
        throw this.aborted(err, req);
      }
    }
    s.window.record(clock.now());
    const res = await next(req);
    this.observe(host, res);
    return res;
  }

  /**
   * Runs `job` in a slot of `limiter`: schedules a ticket, and when a ticket starts it runs the
   * waiting job of lowest (priority, arrival), this one or another.
   */
  private inTurn<T>(s: HostState, limiter: Bottleneck, priority: number, job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = { priority, start: () => job().then(resolve, reject), fail: reject };
      let i = s.waiting.length;
      while (i > 0 && (s.waiting[i - 1]?.priority ?? 0) > priority) i--;
      s.waiting.splice(i, 0, w);
      limiter
        .schedule(() => s.waiting.shift()?.start() ?? Promise.resolve())
        .catch((err: unknown) => {
          // The ticket was dropped (the limiter stopped): one waiter fewer can start; this one if it still waits.
          const at = s.waiting.indexOf(w);
          const dropped = at >= 0 ? s.waiting.splice(at, 1)[0] : s.waiting.pop();
          dropped?.fail(err);
        });
    });
  }

  layer(next: RoundTrip): RoundTrip {
    return async (req) => {
      const host = hostOf(req.url);
      const s = this.state(host);
      const priority = requestPriority();
      for (let round = 0; round < 10_000; round++) {
        await this.waitGate(host, req);
        const { limiter, ready } = this.limiterOf(host, s);
        await ready;
        const out = await this.inTurn(s, limiter, priority, () => this.inSlot(host, s, req, next));
        if (out !== requeue) return out;
      }
      throw requestError(req, "unavailable", "paused again and again; giving up");
    };
  }

  close(): void {
    // Group's own cleanup interval is unref'd and has no API to stop it; the limiters do.
    for (const { key } of this.group.limiters()) void this.group.deleteKey(key).catch(() => undefined);
  }
}
