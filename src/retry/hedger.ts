import type { StatusObject } from '@grpc/grpc-js';
import type { Clock, TimerHandle } from '../clock';
import type { HedgingPolicy } from '../config/types';
import { hedgeStartBlocker, onHedgeFailure } from './hedge-decision';
import { parsePushback } from './pushback';
import { recordThrottleOutcome, type CallPolicy, type PolicyCall, type PolicyHost } from './call-policy';

/**
 * The hedging half of a call's gRFC A6 state machine ("Hedging Policy"): when to send the next hedged
 * attempt and when a failed one ends the call. One per call with a hedging policy.
 *
 * - The original attempt goes at once; then one more every `hedgingDelay` (all at once when it is 0),
 *   up to `maxAttempts`, while the call is uncommitted and the throttle allows (A6 "Throttling Retry
 *   Attempts and Hedged RPCs": a throttled hedge stops this call's hedging).
 * - A fatal code ends the call; a non-fatal one sends the next hedge at once, or after the server's
 *   pushback (A6 "Pushback"); a "do not retry" pushback stops hedging. The first OK (or the first
 *   response headers) wins: the call commits and cancels the others (done by the call).
 * - With nothing left in flight or to come, the call ends with the last non-fatal failure.
 */
export class Hedger<A> implements CallPolicy<A> {
  private timer: TimerHandle | undefined;
  private stopped = false;
  private lastFailure: A | undefined;
  private lastStatus: StatusObject | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly call: PolicyCall<A>,
    private readonly policy: HedgingPolicy,
    private readonly host: PolicyHost,
  ) {
    this.clock = host.clock;
  }

  recordOutcome(status: StatusObject): void {
    recordThrottleOutcome(this.host.throttle, this.policy.nonFatalStatusCodes, status);
  }

  /** The original attempt was started: schedule (or send) the hedges. */
  start(): void {
    if (this.policy.hedgingDelayMs > 0) this.arm(this.policy.hedgingDelayMs);
    else while (this.trySend());
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  onFailure(attempt: A, status: StatusObject): void {
    const call = this.call;
    const outcome = onHedgeFailure(this.policy, status.code, parsePushback(status.metadata), this.host.throttle);
    if (outcome === 'fatal') {
      call.endWith(attempt, status, false);
      return;
    }
    this.lastFailure = attempt;
    this.lastStatus = status;
    call.reportFailedAttempt(attempt, status);
    if (outcome === 'stop') this.stop();
    else if (outcome > 0) this.arm(outcome);
    // A non-fatal failure sends the next hedge at once; later ones follow every hedgingDelay.
    else if (this.trySend()) this.arm(this.policy.hedgingDelayMs);
    this.endIfNothingLeft();
  }

  private arm(delayMs: number): void {
    this.clearTimer();
    if (this.stopped || this.call.attemptsStarted() >= this.policy.maxAttempts) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.trySend()) this.arm(this.policy.hedgingDelayMs);
      else this.endIfNothingLeft();
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Start one more hedged attempt if A6 allows it now; false if not. */
  private trySend(): boolean {
    const call = this.call;
    if (this.stopped || call.isSettled()) return false;
    const blocker = hedgeStartBlocker(this.policy, call.attemptsStarted(), this.host.throttle, call.deadline, this.clock.now());
    if (blocker === undefined) {
      call.startPolicyAttempt('hedge');
      return true;
    }
    if (blocker === 'throttled') {
      this.host.onThrottled(call.method, 'hedge');
      this.stop();
    }
    return false;
  }

  private endIfNothingLeft(): void {
    const call = this.call;
    if (call.isSettled() || call.hasOutstandingAttempts() || this.timer !== undefined) return;
    if (this.lastFailure !== undefined) call.endWith(this.lastFailure, this.lastStatus!, true);
  }
}
