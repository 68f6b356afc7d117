/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The source of time for every timer switchyard owns (backoff, connect timeouts, deadlines,
 * re-resolution). Injected so unit tests drive it with fake timers and never sleep.
 *
 * `now()` is in milliseconds since the Unix epoch; `setTimeout` delays are in milliseconds.
 * Timers created through a clock do not keep the process alive (they are unref'ed when possible).
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The largest delay Node's `setTimeout` honours, in ms: 2^31 − 1 (≈ 24.8 days). A longer one fires
 * after 1 ms (Node prints a TimeoutOverflowWarning).
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

type NativeTimer = ReturnType<typeof setTimeout>;

function armNative(callback: () => void, delayMs: number): NativeTimer {
  const handle = setTimeout(callback, delayMs);
  (handle as { unref?: () => void }).unref?.();
  return handle;
}

/**
 * A timer longer than Node allows (a 30-day deadline, `timeout: "2592000s"`, a huge `hedgingDelay`).
 * It is armed in steps of at most {@link MAX_TIMER_DELAY_MS} and re-armed until the whole delay has
 * passed, so it fires when due — never early, and without a timer at all for an infinite delay. Chosen
 * over "no timer beyond the limit" (grpc-js drops such deadlines) because a process may run longer
 * than 24.8 days, and a deadline must still end the call then. Costs one native timer at a time and
 * one re-arm per 24.8 days.
 */
class LongTimer {
  native: NativeTimer | undefined;

  constructor(private readonly callback: () => void, private remainingMs: number) {
    this.arm();
  }

  private arm(): void {
    if (this.remainingMs === Infinity) return;
    const step = Math.min(this.remainingMs, MAX_TIMER_DELAY_MS);
    this.native = armNative(() => {
      this.remainingMs -= step;
      if (this.remainingMs > 0) this.arm();
      else this.callback();
    }, step);
  }

  clear(): void {
    if (this.native !== undefined) clearTimeout(this.native);
    this.native = undefined;
    this.remainingMs = Infinity;
  }
}

/**
 * The real clock. It looks the globals up on every call (not once at import), so fake timers
 * installed after import (sinon's `useFakeTimers()`, vitest's `vi.useFakeTimers()`) still drive it.
 *
 * `setTimeout` accepts any delay: negative (and NaN) means "as soon as possible", up to
 * {@link MAX_TIMER_DELAY_MS} is one Node timer, longer is re-armed until due (see {@link LongTimer}),
 * and `Infinity` never fires.
 *
 * @example
 * ```ts
 * import { systemClock } from 'switchyard';
 * const handle = systemClock.setTimeout(() => console.log('later'), 1_000);
 * systemClock.clearTimeout(handle);
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    if (delayMs > MAX_TIMER_DELAY_MS) return new LongTimer(callback, delayMs);
    return armNative(callback, delayMs > 0 ? delayMs : 0);
  },
  clearTimeout(handle) {
    if (handle instanceof LongTimer) handle.clear();
    else clearTimeout(handle as NativeTimer);
  },
};
