import type { RetryPolicy } from '../config/types';

/** Lower bound of the jitter factor of gRFC A6 ("Exponential Backoff"): delays are scaled by `random(0.8, 1.2)`. */
export const RETRY_JITTER_MIN = 0.8;
/** Width of the jitter interval: the factor is `RETRY_JITTER_MIN + RETRY_JITTER_SPAN * random()`, in [0.8, 1.2]. */
export const RETRY_JITTER_SPAN = 0.4;

/**
 * The delay before the n-th retry, per the current text of gRFC A6 ("Exponential Backoff", revised in
 * 2024 from full jitter `random(0, x)` to ±20 % jitter):
 *
 *     min(initialBackoff * backoffMultiplier^(n-1), maxBackoff) * random(0.8, 1.2)
 *
 * `n` counts retries **since the last reset**, starting at 1. A6 ("Pushback") resets the backoff after a
 * retry that followed a server pushback: the next backoff-driven retry uses n = 1 (`initialBackoff`)
 * again, so the caller restarts its count at 0 whenever it retries on a pushback delay.
 *
 * Pure and allocation-free. No validation on this hot path: the policy was validated when the service
 * config was parsed (`initialBackoffMs`, `maxBackoffMs` and `backoffMultiplier` all > 0).
 *
 * @param policy the method's retry policy; its durations are in milliseconds.
 * @param n the 1-based retry number since the last reset (n >= 1). A huge `n` is fine: the power
 *   overflows to Infinity and `maxBackoffMs` caps it.
 * @param random uniform numbers in [0, 1) (`Math.random` or the channel's injected source).
 * @returns the delay in milliseconds (not rounded), in [0.8 × min(...), 1.2 × min(...)] — so at most
 *   `1.2 * maxBackoffMs`. (The upper bound is reachable: 0.8 + 0.4 × random() rounds to 1.2 for
 *   random() close enough to 1.)
 */
export function retryDelayMs(policy: RetryPolicy, n: number, random: () => number): number {
  const base = Math.min(policy.initialBackoffMs * Math.pow(policy.backoffMultiplier, n - 1), policy.maxBackoffMs);
  return base * (RETRY_JITTER_MIN + RETRY_JITTER_SPAN * random());
}
