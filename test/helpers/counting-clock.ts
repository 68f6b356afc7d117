import { systemClock, type Clock, type TimerHandle } from '../../src/clock';

/** The system clock, counting the timers created through it that neither fired nor were cleared. */
export interface CountingClock extends Clock {
  /** Timers pending now. */
  pending(): number;
}

/** Wrap {@link systemClock} so a test can see whether switchyard left a timer behind. */
export function countingClock(): CountingClock {
  const live = new Set<TimerHandle>();
  return {
    now: () => systemClock.now(),
    setTimeout(callback, delayMs) {
      const handle = systemClock.setTimeout(() => {
        live.delete(handle);
        callback();
      }, delayMs);
      live.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      live.delete(handle);
      systemClock.clearTimeout(handle);
    },
    pending: () => live.size,
  };
}
