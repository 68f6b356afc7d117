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
 * The real clock. It looks the globals up on every call (not once at import), so sinon's
 * `useFakeTimers()` installed after import still drives it.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
