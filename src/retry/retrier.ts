import type { StatusObject } from '@grpc/grpc-js';
import type { TimerHandle } from '../clock';
import type { RetryPolicy } from '../config/types';
import { decideRetry } from './decision';
import { parsePushback } from './pushback';
import { recordThrottleOutcome, type CallPolicy, type PolicyCall, type PolicyHost } from './call-policy';

/**
 * The retry half of a call's gRFC A6 state machine ("Retry Policy"): after a failed uncommitted
 * attempt, retry after the backoff (`retryDelayMs`, ±20 % jitter) or the server's pushback, or end the
 * call. The decision itself is `decideRetry` (retryable code, `maxAttempts`, pushback, throttle, deadline:
 * a retry that could only start at or after the deadline is not scheduled, the call ends with the
 * attempt's status at once). A pushback restarts the backoff sequence (A6 "Pushback"). One per call
 * with a retry policy.
 */
export class Retrier<A> implements CallPolicy<A> {
  private retriesSinceReset = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly call: PolicyCall<A>,
    private readonly policy: RetryPolicy,
    private readonly host: PolicyHost,
  ) {}

  /** Nothing to do: retries start only after a failure. */
  start(): void {}

  stop(): void {
    if (this.timer === undefined) return;
    this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  recordOutcome(status: StatusObject): void {
    recordThrottleOutcome(this.host.throttle, this.policy.retryableStatusCodes, status);
  }

  onFailure(attempt: A, status: StatusObject): void {
    const { call, host } = this;
    const { clock, random } = host;
    const pushback = parsePushback(status.metadata);
    const decision = decideRetry({
      policy: this.policy, code: status.code, attempts: call.attemptsStarted(), pushback,
      retriesSinceReset: this.retriesSinceReset, throttle: host.throttle, deadline: call.deadline, now: clock.now(), random,
    });
    if (typeof decision !== 'number') {
      if (decision === 'throttled') host.onThrottled(call.method, 'retry');
      call.endWith(attempt, status, false);
      return;
    }
    this.retriesSinceReset = pushback >= 0 ? 0 : this.retriesSinceReset + 1;
    call.reportFailedAttempt(attempt, status);
    // An `attempt` listener may have ended the call (e.g. closed the channel).
    if (call.isSettled()) return;
    host.onBackoff(call.method, call.attemptsStarted() + 1, decision, pushback >= 0);
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      call.startPolicyAttempt('retry');
    }, decision);
  }
}
