import type { status } from '@grpc/grpc-js';
import type { HedgingPolicy } from '../config/types';
import { PUSHBACK_STOP } from './pushback';
import type { RetryThrottle } from './throttle';

/**
 * What follows a failed hedged attempt (gRFC A6, "Hedging Policy" and "Summary of Retry and Hedging
 * Logic"):
 * - a number: the code is non-fatal; the next hedge may be sent after that many ms — 0 (A6: "the next
 *   hedged request in line is sent immediately, shortcutting its hedging delay") or the server's pushback
 *   delay (A6 "Pushback": "the next hedged request (if any) will be issued after the given delay").
 *   Later hedges then resume every `hedgingDelay` after it. The caller checks {@link hedgeStartBlocker}
 *   when the next hedge is due; if none can start and no attempt is still outstanding, the call fails
 *   with this attempt's status.
 * - `stop`: non-fatal code but the pushback said "do not retry": send no further hedges; attempts in flight
 *   continue; when none is left, the call fails with this status.
 * - `fatal`: any other code: commit to this failure — cancel the other attempts and the pending hedge
 *   timer, and report this status.
 */
export type HedgeFailureOutcome = number | 'stop' | 'fatal';

/**
 * Why no new hedged attempt may start now (gRFC A6):
 * - `max-attempts`: `maxAttempts` attempts (original included) were started.
 * - `throttled`: the channel's token bucket is at or below half ("Throttling Retry Attempts and Hedged
 *   RPCs": hedges are throttled like retries; grpc-js 1.14 ignores this).
 * - `deadline`: the call's deadline has passed.
 */
export type NoHedgeReason = 'max-attempts' | 'throttled' | 'deadline';

/**
 * Classify a failed hedged attempt. Records a throttle failure when the code is non-fatal or the pushback
 * says "do not retry" (A6 counts exactly those); that is the only side effect.
 *
 * @param policy the method's hedging policy.
 * @param code the attempt's status code (not OK: an OK attempt wins the call; record it with
 *   `RetryThrottle.recordSuccess` and cancel the others).
 * @param pushback `parsePushback(trailers)` of the attempt (ms, `PUSHBACK_ABSENT` or `PUSHBACK_STOP`).
 * @param throttle the channel's throttle, if the service config has `retryThrottling`.
 * @returns see {@link HedgeFailureOutcome}. Never throws; allocation-free.
 */
export function onHedgeFailure(
  policy: HedgingPolicy,
  code: status,
  pushback: number,
  throttle: RetryThrottle | undefined,
): HedgeFailureOutcome {
  const nonFatal = policy.nonFatalStatusCodes.has(code);
  if (throttle !== undefined && (nonFatal || pushback === PUSHBACK_STOP)) throttle.recordFailure();
  if (!nonFatal) return 'fatal';
  if (pushback === PUSHBACK_STOP) return 'stop';
  return pushback >= 0 ? pushback : 0;
}

/**
 * May one more attempt of a hedged, uncommitted call start now? The first attempt always may (A6: "The
 * first outgoing RPC will always be sent"); later ones need room under `maxAttempts`, a throttle above
 * half and a deadline still ahead.
 *
 * @param policy the method's hedging policy (`maxAttempts` already capped).
 * @param attemptsStarted attempts already started for this call, the original included.
 * @param throttle the channel's throttle, if any.
 * @param deadline the call's deadline, absolute ms since the epoch (Infinity for none).
 * @param now current time, ms since the epoch.
 * @returns undefined when the attempt may start, else the reason it may not. Allocation-free.
 */
export function hedgeStartBlocker(
  policy: HedgingPolicy,
  attemptsStarted: number,
  throttle: RetryThrottle | undefined,
  deadline: number,
  now: number,
): NoHedgeReason | undefined {
  if (attemptsStarted === 0) return undefined;
  if (attemptsStarted >= policy.maxAttempts) return 'max-attempts';
  if (now >= deadline) return 'deadline';
  if (throttle !== undefined && !throttle.allows()) return 'throttled';
  return undefined;
}
