import { status as Status, type StatusObject } from '@grpc/grpc-js';
import type { Clock } from '../clock';
import { parsePushback, PUSHBACK_STOP } from './pushback';
import type { RetryThrottle } from './throttle';

/**
 * What a call's retry or hedging state machine ({@link CallPolicy}) sees of the call. Implemented by
 * the call engine (`ResilientCall`); `A` is its attempt type, opaque here.
 */
export interface PolicyCall<A> {
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
  reportFailedAttempt(attempt: A, status: StatusObject): void;
  /** Commit to `attempt` and end the call with `status`; `reported`: its `attempt` event was emitted. */
  endWith(attempt: A, status: StatusObject, reported: boolean): void;
}

/**
 * What the retry and hedging state machines need from the channel: time, randomness, the throttle
 * and two event sinks. Narrow on purpose, so `retry/` depends on nothing above it.
 */
export interface PolicyHost {
  readonly clock: Clock;
  /** Uniform numbers in [0, 1) for the backoff jitter. */
  readonly random: () => number;
  /** The channel's retry throttle (gRFC A6), read at each decision: a service config update may replace it. */
  readonly throttle: RetryThrottle | undefined;
  /** A retry or hedge the throttle refused: count it and emit `throttled`. */
  onThrottled(method: string, kind: 'retry' | 'hedge'): void;
  /** A retry was scheduled `delayMs` from now (`pushback`: the delay is the server's): emit `backoff`. */
  onBackoff(method: string, nextAttempt: number, delayMs: number, pushback: boolean): void;
}

/** The retry policy or the hedging policy of one call (gRFC A6: a method has at most one). */
export interface CallPolicy<A> {
  /** The original attempt was started. */
  start(): void;
  /** The call committed or ended: start nothing more, clear every timer. Idempotent. */
  stop(): void;
  /** An uncommitted attempt failed (not OK, not transparently retried): retry, hedge or end the call. */
  onFailure(attempt: A, status: StatusObject): void;
  /** The status of an OK or committed attempt, for retry throttling. */
  recordOutcome(status: StatusObject): void;
}

/**
 * gRFC A6 "Throttling Retry Attempts and Hedged RPCs", for the attempts the retry and hedge decisions do
 * not see (OK, or committed before failing): a success adds `tokenRatio`; a code in `codes` (retryable or
 * non-fatal) or a "do not retry" pushback costs one token.
 */
export function recordThrottleOutcome(throttle: RetryThrottle | undefined, codes: ReadonlySet<Status>, status: StatusObject): void {
  if (throttle === undefined) return;
  if (status.code === Status.OK) throttle.recordSuccess();
  else if (codes.has(status.code) || parsePushback(status.metadata) === PUSHBACK_STOP) throttle.recordFailure();
}
