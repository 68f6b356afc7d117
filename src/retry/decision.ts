import type { status } from '@grpc/grpc-js';
import type { RetryPolicy } from '../config/types';
import { retryDelayMs } from './backoff';
import { PUSHBACK_STOP } from './pushback';
import type { RetryThrottle } from './throttle';

/**
 * Why a failed attempt of a call with a retry policy is not retried (gRFC A6). The call then ends with
 * the attempt's status, at once.
 * - `not-retryable-code`: the status is not in `retryableStatusCodes` ("Retryable Status Codes").
 * - `max-attempts`: `maxAttempts` attempts were made ("Maximum Number of Retries"; pushback never raises it).
 * - `pushback-stop`: the server's `grpc-retry-pushback-ms` said not to retry ("Pushback").
 * - `throttled`: the channel's token bucket is at or below half ("Throttling Retry Attempts and Hedged
 *   RPCs": retries "are canceled and the failure returned to the client application").
 * - `deadline`: the retry would start at or after the call's deadline, which covers all attempts
 *   ("Maximum Number of Retries"), so waiting could only end in DEADLINE_EXCEEDED.
 */
export type NoRetryReason = 'not-retryable-code' | 'max-attempts' | 'pushback-stop' | 'throttled' | 'deadline';

/**
 * Everything {@link decideRetry} looks at. Plain fields, so the channel can reuse one object or let its
 * call state implement this interface (no allocation per decision).
 */
export interface RetryAttemptFailure {
  /** The method's retry policy (durations in ms, `maxAttempts` already capped). */
  readonly policy: RetryPolicy;
  /** The failed attempt's status code (not OK: an OK attempt goes to `RetryThrottle.recordSuccess`). */
  readonly code: status;
  /**
   * Attempts made so far, including the one that just failed (>= 1). Transparent retries do not count
   * (A6, "Transparent Retries").
   */
  readonly attempts: number;
  /** `parsePushback(trailers)` of the failed attempt: a delay in ms, `PUSHBACK_ABSENT` or `PUSHBACK_STOP`. */
  readonly pushback: number;
  /**
   * Backoff-driven retries since the last reset (0 before the first retry). Per A6 ("Pushback") the
   * caller resets it to 0 after a retry that used a pushback delay (`pushback >= 0`) and increments it
   * after a retry that used the backoff.
   */
  readonly retriesSinceReset: number;
  /** The channel's throttle, or undefined when the service config has no `retryThrottling`. */
  readonly throttle: RetryThrottle | undefined;
  /** The call's deadline, absolute ms since the epoch; Infinity for none. */
  readonly deadline: number;
  /** Current time, ms since the epoch (from the channel's Clock). */
  readonly now: number;
  /** Uniform numbers in [0, 1) for the backoff jitter. */
  readonly random: () => number;
}

/**
 * Decide what follows a failed attempt of a call governed by a retry policy (gRFC A6, "Summary of Retry
 * and Hedging Logic").
 *
 * Side effect (the only one): when the status is retryable, or the pushback says "do not retry", a
 * failure is recorded in the throttle — A6 counts exactly these as failures — and this happens before
 * any other check (as gRPC C-core does), so an exhausted call still feeds the throttle.
 *
 * Then, in order: `not-retryable-code`, `max-attempts`, `pushback-stop`, `throttled`
 * (checked after recording this failure), and finally the delay: exactly the pushback when the server
 * gave one (A6 "Pushback"), otherwise `retryDelayMs(policy, retriesSinceReset + 1, random)`;
 * `deadline` if `now + delay >= deadline`.
 *
 * @returns the delay in ms (>= 0, not rounded) after which the next attempt starts, or the reason not
 *   to retry. Never throws; allocation-free.
 */
export function decideRetry(f: RetryAttemptFailure): number | NoRetryReason {
  const policy = f.policy;
  const retryable = policy.retryableStatusCodes.has(f.code);
  const pushback = f.pushback;
  const throttle = f.throttle;
  if (throttle !== undefined && (retryable || pushback === PUSHBACK_STOP)) throttle.recordFailure();
  if (!retryable) return 'not-retryable-code';
  if (f.attempts >= policy.maxAttempts) return 'max-attempts';
  if (pushback === PUSHBACK_STOP) return 'pushback-stop';
  if (throttle !== undefined && !throttle.allows()) return 'throttled';
  const delay = pushback >= 0 ? pushback : retryDelayMs(policy, f.retriesSinceReset + 1, f.random);
  if (f.now + delay >= f.deadline) return 'deadline';
  return delay;
}
