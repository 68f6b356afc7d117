import * as grpc from '@grpc/grpc-js';
import { parsePushback, PUSHBACK_STOP } from './pushback';
import type { RetryThrottle } from './throttle';
import type { Attempt } from '../call/attempt';
import type { CallHost } from '../call/resilient-call';

/**
 * What a call's retry or hedging policy ({@link CallPolicy}) sees of the call. Internal: implemented by
 * `ResilientCall`.
 */
export interface PolicyCall {
  /** Full method path, `/package.Service/Method`. */
  readonly method: string;
  /** The call's effective deadline, absolute ms since the epoch (`Infinity` for none). */
  readonly deadline: number;
  /** Attempts started or waiting for a pick, the original included (transparent retries excluded). */
  attemptsStarted(): number;
  /** True while an attempt is in flight or waiting for a pick. */
  hasOutstandingAttempts(): boolean;
  /** True once the call committed or ended: no more retries or hedges. */
  isSettled(): boolean;
  /** Start a retry or a hedged attempt now (it may wait for a pick). */
  startPolicyAttempt(kind: 'retry' | 'hedge'): void;
  /** Emit the `attempt` event of a failure that is not (yet) the call's outcome. */
  reportFailedAttempt(attempt: Attempt, status: grpc.StatusObject): void;
  /** Commit to `attempt` and end the call with `status`; `reported`: its `attempt` event was emitted. */
  endWith(attempt: Attempt, status: grpc.StatusObject, reported: boolean): void;
}

/** The retry policy or the hedging policy of one call (gRFC A6: a method has at most one). Internal. */
export interface CallPolicy {
  /** The original attempt was started. */
  start(): void;
  /** The call committed or ended: start nothing more, clear every timer. Idempotent. */
  stop(): void;
  /** An uncommitted attempt failed (not OK, not transparently retried): retry, hedge or end the call. */
  onFailure(attempt: Attempt, status: grpc.StatusObject): void;
  /** The status of an OK or committed attempt, for retry throttling. */
  recordOutcome(status: grpc.StatusObject): void;
}

/**
 * gRFC A6 "Throttling Retry Attempts and Hedged RPCs", for the attempts the retry and hedge decisions do
 * not see (OK, or committed before failing): a success adds `tokenRatio`; a code in `codes` (retryable or
 * non-fatal) or a "do not retry" pushback costs one token.
 */
export function recordThrottleOutcome(
  throttle: RetryThrottle | undefined,
  codes: ReadonlySet<grpc.status>,
  status: grpc.StatusObject,
): void {
  if (throttle === undefined) return;
  if (status.code === grpc.status.OK) throttle.recordSuccess();
  else if (codes.has(status.code) || parsePushback(status.metadata) === PUSHBACK_STOP) throttle.recordFailure();
}

/** Count a retry or hedge the throttle refused, and emit the `throttled` event. */
export function reportThrottled(host: CallHost, method: string, kind: 'retry' | 'hedge'): void {
  host.counters.throttled++;
  const events = host.events;
  if (events.listenerCount('throttled') > 0) events.emit('throttled', { method, kind, tokens: host.throttle?.tokens ?? 0 });
}
