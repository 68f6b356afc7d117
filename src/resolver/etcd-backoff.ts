import { RECONNECT_BACKOFF_JITTER, RECONNECT_BACKOFF_MULTIPLIER } from '../backoff';

/**
 * Delay before retry number `attempt` (0-based) after etcd became unreachable, following the
 * formula of gRPC's `doc/connection-backoff.md`: `min(initial * 1.6^attempt, max)`, then jittered
 * by ±20 %.
 *
 * @param attempt Retries already made since the last success (0 for the first retry).
 * @param initialMs First delay in ms.
 * @param maxMs Largest delay in ms before jitter.
 * @param random Uniform random number in [0, 1).
 * @returns The delay in ms.
 */
export function etcdBackoffMs(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(initialMs * Math.pow(RECONNECT_BACKOFF_MULTIPLIER, attempt), maxMs);
  return base * (1 + RECONNECT_BACKOFF_JITTER * (2 * random() - 1));
}
