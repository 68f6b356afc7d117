import type { Clock, TimerHandle } from '../clock';
import { DEFAULT_INITIAL_BACKOFF_MS, backoffBaseMs } from '../backoff';

/** Settings of {@link createResolutionScheduler}. All durations in ms. */
export interface ResolutionSchedulerOptions {
  /** Drives every timer. */
  readonly clock: Clock;
  /** After a successful run, the next periodic run starts this long after it finished. Also the backoff cap. */
  readonly refreshIntervalMs: number;
  /** Minimum time between the starts of two runs that were requested or periodic. */
  readonly minIntervalMs: number;
  /**
   * One resolution. Resolves `true` on success, `false` on failure (a rejection counts as failure).
   * Called at most once at a time.
   */
  readonly run: () => Promise<boolean>;
}

/** Decides when a polling resolver queries its name service. */
export interface ResolutionScheduler {
  /** Ask for a run: at once if the rate limit allows, else one coalesced run when it does. */
  request(): void;
  /** Clear the timer; no run starts afterwards and the outcome of one in flight is ignored. */
  close(): void;
}

/**
 * The timing rules of a polling resolver (DNS), apart from the query itself:
 *
 * - Nothing runs until the first `request()` (a resolver does no I/O before `requestResolution()`).
 * - At most one run in flight. A request during a run is remembered and handled when it ends.
 * - Rate limit (grpc-go and grpc-js use the same rule, 30 s by default): a requested or periodic run
 *   starts no sooner than `minIntervalMs` after the previous start; requests inside that window are
 *   coalesced into a single run at its end.
 * - After a success the periodic timer is re-armed: next run `refreshIntervalMs` after it finished.
 * - After a failure, retry with exponential backoff (`doc/connection-backoff.md` constants without
 *   jitter: 1 s, x1.6, capped at `refreshIntervalMs`), reset by the next success. These retries are
 *   exempt from the rate limit, as in grpc-go's DNS resolver — otherwise a 30 s limit would swallow
 *   the backoff — but a request never makes them come sooner than the limit allows.
 *
 * One timer at most, always through `options.clock`.
 *
 * @param options see {@link ResolutionSchedulerOptions}.
 * @returns the scheduler; call `close()` to release its timer.
 */
export function createResolutionScheduler(options: ResolutionSchedulerOptions): ResolutionScheduler {
  const { clock, refreshIntervalMs, minIntervalMs, run } = options;
  const maxBackoffMs = Math.max(refreshIntervalMs, 0);
  let failures = 0;
  let closed = false;
  let inFlight = false;
  let requestedInFlight = false;
  let lastStartMs = Number.NEGATIVE_INFINITY;
  let timer: TimerHandle | undefined;
  let timerDueMs = Number.POSITIVE_INFINITY;

  function disarm(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    timerDueMs = Number.POSITIVE_INFINITY;
  }

  // Keeps the earlier of the pending timer and the new due time: every reason to run is served by one run.
  function armAt(dueMs: number): void {
    if (timer !== undefined && timerDueMs <= dueMs) return;
    disarm();
    timerDueMs = dueMs;
    timer = clock.setTimeout(() => {
      timer = undefined;
      timerDueMs = Number.POSITIVE_INFINITY;
      start();
    }, Math.max(0, dueMs - clock.now()));
  }

  function start(): void {
    if (closed) return;
    disarm();
    inFlight = true;
    lastStartMs = clock.now();
    let outcome: Promise<boolean>;
    try {
      outcome = run();
    } catch {
      outcome = Promise.resolve(false);
    }
    outcome.then(
      (ok) => finish(ok === true),
      () => finish(false),
    );
  }

  function finish(ok: boolean): void {
    inFlight = false;
    if (closed) return;
    const now = clock.now();
    if (ok) {
      failures = 0;
      armAt(Math.max(now + refreshIntervalMs, lastStartMs + minIntervalMs));
    } else {
      armAt(now + Math.round(backoffBaseMs(failures++, DEFAULT_INITIAL_BACKOFF_MS, maxBackoffMs)));
    }
    if (requestedInFlight) {
      requestedInFlight = false;
      request();
    }
  }

  function request(): void {
    if (closed) return;
    if (inFlight) {
      requestedInFlight = true;
      return;
    }
    const earliestMs = lastStartMs + minIntervalMs;
    if (earliestMs <= clock.now()) start();
    else armAt(earliestMs);
  }

  return {
    request,
    close() {
      closed = true;
      disarm();
    },
  };
}
