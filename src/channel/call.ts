import * as grpc from '@grpc/grpc-js';
import type { EventEmitter } from 'node:events';
import type { TimerHandle } from '../clock';
import type { HedgingPolicy, MethodConfig, RetryPolicy } from '../config/types';
import type { PickArgs, PickResult, Subchannel } from '../picker/types';
import { retryDelayMs } from '../retry/backoff';
import { parsePushback, PUSHBACK_ABSENT, PUSHBACK_STOP } from '../retry/pushback';
import type { RetryThrottle } from '../retry/throttle';
import { releaseCall, tryBuffer, type RetryBufferBudget, type RetryBufferCall } from '../retry/retry-buffer';
import { currentCallContext } from '../deadline/context';
import { deadlineFromGrpc } from '../deadline/deadline';
import { Attempt, type AttemptOwner, type AttemptSubchannel, type GrpcCall } from './attempt';
import type { ChannelCounters } from './counters';
import type { AttemptKind, CommitReason, SwitchyardEvents } from './events';
import type { NormalizedOptions } from './normalize-options';

const { status: Status } = grpc;
type MessageContext = Parameters<GrpcCall['sendMessageWithContext']>[0];
type Listener = Parameters<GrpcCall['start']>[1];
/** grpc-js's server call, the `parentCall` of `Channel.createCall` (its type is not exported by name). */
export type ParentCall = Parameters<grpc.ChannelInterface['createCall']>[3];

/** What a call needs from its channel. Internal. */
export interface CallHost {
  readonly options: NormalizedOptions;
  readonly counters: ChannelCounters;
  readonly events: EventEmitter<SwitchyardEvents>;
  readonly throttle: RetryThrottle | undefined;
  readonly retryBudget: RetryBufferBudget;
  methodConfig(method: string): MethodConfig | undefined;
  pick(call: ResilientCall): PickResult;
  queue(call: ResilientCall): void;
  unqueue(call: ResilientCall): void;
  failureReason(details: string): string;
}

interface Buffered {
  readonly message: Buffer;
  readonly flags: number | undefined;
}

/** grpc-js marks how far a failed attempt got; not public API, so it is only a hint (absent = processed). */
type Progress = 'NOT_STARTED' | 'REFUSED' | 'DROP' | 'PROCESSED' | undefined;

/**
 * A call on a switchyard channel: the gRFC A6 state machine over one or more attempts.
 *
 * - Effective deadline: the earliest of the caller's deadline, the method config's `timeout`, a parent
 *   call's deadline and the propagated context deadline; it covers every attempt, backoff and queueing.
 * - Outgoing messages are buffered (per-call and per-channel limits) until the call commits: on
 *   response headers, a response message, a final status, or a buffer overflow (A6 "Buffering").
 * - A failed uncommitted attempt is retried per the retry policy (backoff, pushback, throttling), or
 *   hedged per the hedging policy; an attempt that never left the client is retried transparently.
 *
 * Implements grpc-js's `Call` interface (what `Channel.createCall` returns), so grpc-js's `Client`,
 * interceptors and (de)serialization sit on top unchanged.
 */
export class ResilientCall implements AttemptOwner, PickArgs, RetryBufferCall {
  /** PickArgs: the request metadata (set by `start`). */
  metadata!: grpc.Metadata;
  /** PickArgs: subchannels this call's earlier attempts used (only tracked with a retry or hedging policy). */
  previous: Subchannel[] | undefined;

  private listener: Listener | undefined;
  private credentials: grpc.CallCredentials | undefined;
  private deadline: number;
  private startedAt = 0;
  private waitForReady = false;
  private config: MethodConfig | undefined;
  private retryPolicy: RetryPolicy | undefined;
  private hedgingPolicy: HedgingPolicy | undefined;
  private readonly live: Attempt[] = [];
  private committed: Attempt | undefined;
  private lastAttempt: Attempt | undefined;
  private attemptCount = 0;
  private backoffCount = 0;
  private refusedRetried = false;
  private hedgingStopped = false;
  private pendingPicks: AttemptKind[] = [];
  private buffer: Buffered[] | undefined = [];
  /** RetryBufferCall: bytes of `buffer` charged to the channel's retry buffer budget. */
  retryBufferedBytes = 0;
  readonly retryBudget: RetryBufferBudget;
  private overflowed = false;
  private halfClosed = false;
  private readPending = false;
  private timer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  /** The latest non-fatal hedge failure: the call's outcome if no other attempt succeeds. */
  private lastFailure: { attempt: Attempt; status: grpc.StatusObject } | undefined;
  private done = false;

  constructor(
    private readonly host: CallHost,
    readonly method: string,
    deadline: grpc.Deadline,
    private readonly authorityOverride: string | undefined,
    private readonly parent: ParentCall,
    private readonly propagateFlags: number,
    private readonly callNumber: number,
  ) {
    this.deadline = deadlineFromGrpc(deadline);
    this.retryBudget = host.retryBudget;
  }

  // ---- grpc-js Call interface -------------------------------------------------------------------

  start(metadata: grpc.Metadata, listener: Listener): void {
    const host = this.host;
    const clock = host.options.clock;
    this.metadata = metadata;
    this.listener = listener;
    this.startedAt = clock.now();
    host.counters.calls++;
    const config = host.methodConfig(this.method);
    this.config = config;
    if (config !== undefined) {
      if (config.timeoutMs !== undefined) this.deadline = Math.min(this.deadline, this.startedAt + config.timeoutMs);
      this.retryPolicy = config.retryPolicy;
      this.hedgingPolicy = config.hedgingPolicy;
      if (this.retryPolicy !== undefined || this.hedgingPolicy !== undefined) this.previous = [];
    }
    // The client API's waitForReady overrides the method config's (doc/service_config.md).
    this.waitForReady = metadata.getOptions().waitForReady ?? config?.waitForReady ?? false;
    this.inheritDeadlineAndCancellation();
    if (this.done) return;
    if (this.deadline !== Infinity) {
      const remaining = this.deadline - this.startedAt;
      if (remaining <= 0) {
        this.finishLocally(Status.DEADLINE_EXCEEDED, 'Deadline exceeded before the call started');
        return;
      }
      this.deadlineTimer = clock.setTimeout(() => this.onDeadline(), remaining);
    }
    this.startAttempt('initial');
    if (this.hedgingPolicy !== undefined) this.scheduleHedges();
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    if (this.done) return;
    const limit = this.config?.maxRequestMessageBytes;
    if (limit !== undefined && message.length > limit) {
      this.finishLocally(Status.RESOURCE_EXHAUSTED, `Sent message larger than max (${message.length} vs. ${limit})`);
      return;
    }
    if (this.committed !== undefined) {
      this.committed.call.sendMessageWithContext(context, message);
      return;
    }
    this.bufferMessage(message, context.flags);
    const live = this.live;
    if (live.length === 0) {
      if (context.callback) process.nextTick(context.callback);
    } else {
      live[0]!.call.sendMessageWithContext(context, message);
      for (let i = 1; i < live.length; i++) live[i]!.call.sendMessageWithContext({ flags: context.flags }, message);
    }
    if (this.overflowed && live.length > 0) this.commit(live[0]!, 'buffer-limit');
  }

  halfClose(): void {
    if (this.done || this.halfClosed) return;
    this.halfClosed = true;
    if (this.committed !== undefined) this.committed.call.halfClose();
    else for (const attempt of this.live) attempt.call.halfClose();
  }

  startRead(): void {
    if (this.done) return;
    this.readPending = true;
    if (this.committed !== undefined) this.read(this.committed);
    else for (const attempt of this.live) this.read(attempt);
  }

  cancelWithStatus(code: grpc.status, details: string): void {
    this.finishLocally(code, details);
  }

  getPeer(): string {
    return (this.committed ?? this.lastAttempt)?.subchannel.key ?? 'unknown';
  }

  getCallNumber(): number {
    return this.callNumber;
  }

  setCredentials(credentials: grpc.CallCredentials): void {
    this.credentials = credentials;
  }

  getAuthContext(): ReturnType<GrpcCall['getAuthContext']> {
    return (this.committed ?? this.lastAttempt)?.call.getAuthContext() ?? null;
  }

  // ---- attempts ---------------------------------------------------------------------------------

  /** @internal The channel has a new picker: retry the picks this call is waiting for. */
  onPickerChanged(): void {
    const kinds = this.pendingPicks;
    this.pendingPicks = [];
    for (const kind of kinds) this.startAttempt(kind);
  }

  private startAttempt(kind: AttemptKind): void {
    if (this.done) return;
    const result = this.host.pick(this);
    if (result.type === 'complete') {
      this.launch(result.subchannel as AttemptSubchannel, kind);
    } else if (result.type === 'queue' || (result.type === 'fail' && this.waitForReady)) {
      // A wait-for-ready call waits out a failing picker too.
      this.pendingPicks.push(kind);
      this.host.queue(this);
    } else if (result.type === 'fail') {
      this.finishLocally(result.status.code, this.host.failureReason(result.status.details));
    } else {
      this.finishLocally(result.status.code, result.status.details);
    }
  }

  private launch(subchannel: AttemptSubchannel, kind: AttemptKind): void {
    const host = this.host;
    const number = kind === 'transparent' ? this.attemptCount : ++this.attemptCount;
    const call = subchannel.createCall(this.method, this.deadline, this.authorityOverride);
    if (this.credentials !== undefined) call.setCredentials(this.credentials);
    const attempt = new Attempt(this, call, subchannel, number, kind);
    this.live.push(attempt);
    this.lastAttempt = attempt;
    this.previous?.push(subchannel);
    host.counters.attempts++;
    if (kind === 'retry') host.counters.retries++;
    else if (kind === 'hedge') host.counters.hedges++;
    else if (kind === 'transparent') host.counters.transparentRetries++;
    let metadata = this.metadata;
    if (number > 1 || kind === 'transparent') {
      // Each attempt after the first gets its own copy: grpc-js filters edit the metadata they send.
      metadata = metadata.clone();
      if (number > 1) metadata.set('grpc-previous-rpc-attempts', String(number - 1));
    }
    call.start(metadata, attempt);
    const buffer = this.buffer;
    if (buffer !== undefined) for (const item of buffer) call.sendMessageWithContext({ flags: item.flags }, item.message);
    if (this.halfClosed) call.halfClose();
    if (this.readPending) this.read(attempt);
    if (this.overflowed) this.commit(attempt, 'buffer-limit');
  }

  private read(attempt: Attempt): void {
    if (attempt.reading) return;
    attempt.reading = true;
    attempt.call.startRead();
  }

  onAttemptMetadata(attempt: Attempt, metadata: grpc.Metadata): void {
    if (this.committed === undefined && !this.done) this.commit(attempt, 'headers');
    if (this.committed === attempt && !this.done) this.listener!.onReceiveMetadata(metadata);
  }

  onAttemptMessage(attempt: Attempt, message: Buffer): void {
    if (this.committed === undefined && !this.done) this.commit(attempt, 'message');
    if (this.committed !== attempt || this.done) return;
    const limit = this.config?.maxResponseMessageBytes;
    if (limit !== undefined && message.length > limit) {
      this.finishLocally(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${message.length} vs. ${limit})`);
      return;
    }
    this.readPending = false;
    this.listener!.onReceiveMessage(message);
  }

  onAttemptStatus(attempt: Attempt, status: grpc.StatusObject): void {
    const index = this.live.indexOf(attempt);
    if (index >= 0) this.live.splice(index, 1);
    if (this.done || (this.committed !== undefined && this.committed !== attempt)) {
      this.emitAttempt(attempt, status, false);
      return;
    }
    const code = status.code;
    if (this.committed === attempt) {
      this.recordThrottle(code);
      this.finish(status, attempt);
      return;
    }
    // gRFC A6 "Transparent retries": never left the client → retry until the deadline; refused by the
    // server's transport → retry once. Neither counts as an attempt nor touches the throttle.
    const progress = (status as { progress?: Progress }).progress;
    if (progress === 'NOT_STARTED' || (progress === 'REFUSED' && !this.refusedRetried)) {
      if (progress === 'REFUSED') this.refusedRetried = true;
      this.emitAttempt(attempt, status, false);
      this.startAttempt('transparent');
      return;
    }
    this.recordThrottle(code);
    if (code === Status.OK) this.commitAndFinish(attempt, status);
    else if (this.hedgingPolicy !== undefined) this.onHedgeFailed(attempt, status, this.hedgingPolicy);
    else if (this.retryPolicy !== undefined) this.onRetryableFailure(attempt, status, this.retryPolicy);
    else this.commitAndFinish(attempt, status);
  }

  /** gRFC A6 "Retry Throttling": a success adds tokenRatio; a retryable (or non-fatal) failure costs one. */
  private recordThrottle(code: grpc.status): void {
    const throttle = this.host.throttle;
    if (throttle === undefined || (this.retryPolicy === undefined && this.hedgingPolicy === undefined)) return;
    if (code === Status.OK) throttle.recordSuccess();
    else if (this.retryPolicy?.retryableStatusCodes.has(code) || this.hedgingPolicy?.nonFatalStatusCodes.has(code)) {
      throttle.recordFailure();
    }
  }

  // ---- retries (gRFC A6 "Retry Policy") ---------------------------------------------------------

  private onRetryableFailure(attempt: Attempt, status: grpc.StatusObject, policy: RetryPolicy): void {
    if (!policy.retryableStatusCodes.has(status.code) || this.attemptCount >= policy.maxAttempts) {
      this.commitAndFinish(attempt, status);
      return;
    }
    const pushback = parsePushback(status.metadata);
    if (pushback === PUSHBACK_STOP) {
      this.commitAndFinish(attempt, status);
      return;
    }
    if (!this.throttleAllows('retry')) {
      this.commitAndFinish(attempt, status);
      return;
    }
    let delayMs: number;
    if (pushback === PUSHBACK_ABSENT) {
      delayMs = retryDelayMs(policy, ++this.backoffCount, this.host.options.random);
    } else {
      // A pushback sets the delay exactly and restarts the backoff sequence.
      delayMs = pushback;
      this.backoffCount = 0;
    }
    const clock = this.host.options.clock;
    if (clock.now() + delayMs >= this.deadline) {
      // No attempt may start after the deadline: end now with the last attempt's status.
      this.commitAndFinish(attempt, status);
      return;
    }
    this.emitAttempt(attempt, status, false);
    const events = this.host.events;
    if (events.listenerCount('backoff') > 0) {
      events.emit('backoff', { method: this.method, nextAttempt: this.attemptCount + 1, delayMs, pushback: pushback !== PUSHBACK_ABSENT });
    }
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      this.startAttempt('retry');
    }, delayMs);
  }

  private throttleAllows(kind: 'retry' | 'hedge'): boolean {
    const throttle = this.host.throttle;
    if (throttle === undefined || throttle.allows()) return true;
    this.host.counters.throttled++;
    const events = this.host.events;
    if (events.listenerCount('throttled') > 0) events.emit('throttled', { method: this.method, kind, tokens: throttle.tokens });
    return false;
  }

  // ---- hedging (gRFC A6 "Hedging Policy") -------------------------------------------------------

  private scheduleHedges(): void {
    const policy = this.hedgingPolicy!;
    if (policy.hedgingDelayMs === 0) {
      while (!this.done && this.committed === undefined && !this.hedgingStopped && this.hedgesLeft(policy)) {
        if (!this.sendHedge()) break;
      }
      return;
    }
    this.armHedgeTimer(policy.hedgingDelayMs);
  }

  private armHedgeTimer(delayMs: number): void {
    if (this.timer !== undefined) this.host.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.hedgingStopped || !this.hedgesLeft(this.hedgingPolicy!)) return;
    this.timer = this.host.options.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.done || this.committed !== undefined) return;
      this.sendHedge();
      this.armHedgeTimer(this.hedgingPolicy!.hedgingDelayMs);
    }, delayMs);
  }

  /** Attempts the hedging policy still allows, counting those waiting for a pick. */
  private hedgesLeft(policy: HedgingPolicy): boolean {
    return this.attemptCount + this.pendingPicks.length < policy.maxAttempts;
  }

  /** Start one more hedged attempt if the throttle allows; false if it did not. */
  private sendHedge(): boolean {
    if (!this.throttleAllows('hedge')) {
      this.hedgingStopped = true;
      this.endIfNothingLeft();
      return false;
    }
    this.startAttempt('hedge');
    return true;
  }

  private onHedgeFailed(attempt: Attempt, status: grpc.StatusObject, policy: HedgingPolicy): void {
    if (!policy.nonFatalStatusCodes.has(status.code)) {
      this.commitAndFinish(attempt, status);
      return;
    }
    this.lastFailure = { attempt, status };
    this.emitAttempt(attempt, status, false);
    const pushback = parsePushback(status.metadata);
    if (pushback === PUSHBACK_STOP) this.hedgingStopped = true;
    else if (pushback !== PUSHBACK_ABSENT) this.armHedgeTimer(pushback);
    else if (this.hedgesLeft(policy) && !this.hedgingStopped) {
      // A non-fatal failure sends the next hedge at once.
      if (this.sendHedge()) this.armHedgeTimer(policy.hedgingDelayMs);
      return;
    }
    this.endIfNothingLeft();
  }

  /** With no attempt in flight or to come, the call ends with the last failure. */
  private endIfNothingLeft(): void {
    if (this.done || this.live.length > 0 || this.pendingPicks.length > 0) return;
    const policy = this.hedgingPolicy!;
    if (this.timer !== undefined && !this.hedgingStopped && this.hedgesLeft(policy)) return;
    const last = this.lastFailure;
    if (last !== undefined) this.commitAndFinish(last.attempt, last.status);
  }

  // ---- commit and end ---------------------------------------------------------------------------

  private bufferMessage(message: Buffer, flags: number | undefined): void {
    const buffer = this.buffer;
    if (buffer === undefined || this.overflowed) return;
    if (!tryBuffer(this, message.length)) {
      // gRFC A6 "Buffering": past the limit the call commits; the message still goes to the attempt.
      this.overflowed = true;
      if (this.live.length === 0) buffer.push({ message, flags });
      return;
    }
    buffer.push({ message, flags });
  }

  private releaseBuffer(): void {
    if (this.buffer === undefined) return;
    this.buffer = undefined;
    releaseCall(this);
  }

  private commit(attempt: Attempt, reason: CommitReason): void {
    this.committed = attempt;
    this.releaseBuffer();
    if (this.timer !== undefined) {
      this.host.options.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pendingPicks.length = 0;
    this.host.unqueue(this);
    this.cancelLiveExcept(attempt, 'Another hedged attempt committed');
    const events = this.host.events;
    if (events.listenerCount('commit') > 0) {
      events.emit('commit', { method: this.method, attempt: attempt.number, endpoint: attempt.subchannel.key, reason });
    }
  }

  private commitAndFinish(attempt: Attempt, status: grpc.StatusObject): void {
    if (this.committed !== attempt) this.commit(attempt, 'status');
    this.finish(status, attempt);
  }

  private cancelLiveExcept(keep: Attempt | undefined, details: string): void {
    const live = this.live;
    if (live.length === 0 || (live.length === 1 && live[0] === keep)) return;
    const losers = live.filter((a) => a !== keep);
    const kept = losers.length < live.length;
    live.length = 0;
    if (kept) live.push(keep!);
    for (const loser of losers) loser.call.cancelWithStatus(Status.CANCELLED, details);
  }

  private onDeadline(): void {
    this.deadlineTimer = undefined;
    const elapsed = this.host.options.clock.now() - this.startedAt;
    this.finishLocally(Status.DEADLINE_EXCEEDED, `Deadline exceeded after ${elapsed} ms (${this.attemptCount} attempt(s))`);
  }

  /** End the call with a status made here (not by a server): cancel attempts, report asynchronously. */
  private finishLocally(code: grpc.status, details: string): void {
    if (this.done) return;
    this.cancelLiveExcept(undefined, details);
    const status: grpc.StatusObject = { code, details, metadata: new grpc.Metadata() };
    this.finish(status, undefined);
  }

  /**
   * End the call once. `attempt` is the attempt whose status this is; without one the status was made
   * here and is reported on the next tick (never synchronously inside a caller's method).
   */
  private finish(status: grpc.StatusObject, attempt: Attempt | undefined): void {
    if (this.done) return;
    this.done = true;
    if (attempt !== undefined) this.emitAttempt(attempt, status, true);
    const host = this.host;
    const clock = host.options.clock;
    if (this.deadlineTimer !== undefined) clock.clearTimeout(this.deadlineTimer);
    if (this.timer !== undefined) clock.clearTimeout(this.timer);
    this.deadlineTimer = this.timer = undefined;
    if (this.pendingPicks.length > 0) {
      this.pendingPicks.length = 0;
      host.unqueue(this);
    }
    this.cancelLiveExcept(undefined, 'Call ended');
    this.releaseBuffer();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (status.code === Status.OK) host.counters.succeeded++;
    else {
      host.counters.failed++;
      if (status.code === Status.DEADLINE_EXCEEDED) host.counters.deadlineExceeded++;
    }
    const listener = this.listener;
    if (listener === undefined) return;
    if (attempt === undefined) process.nextTick(() => listener.onReceiveStatus(status));
    else listener.onReceiveStatus(status);
  }

  private emitAttempt(attempt: Attempt, status: grpc.StatusObject, committed: boolean): void {
    const events = this.host.events;
    if (events.listenerCount('attempt') === 0) return;
    events.emit('attempt', {
      method: this.method, attempt: attempt.number, kind: attempt.kind, endpoint: attempt.subchannel.key,
      code: status.code, details: status.details, committed,
    });
  }

  // ---- deadline and cancellation propagation --------------------------------------------------

  /**
   * The earlier deadline wins among the caller's, a grpc-js `parent` call's (with
   * `propagate.DEADLINE`) and the context `propagateDeadlines` entered for the incoming call; the
   * call is cancelled with its parent (`propagate.CANCELLATION`) or its context.
   */
  private inheritDeadlineAndCancellation(): void {
    const parent = this.parent;
    if (parent !== null) {
      if (this.propagateFlags & grpc.propagate.DEADLINE) {
        this.deadline = Math.min(this.deadline, deadlineFromGrpc(parent.getDeadline()));
      }
      if (this.propagateFlags & grpc.propagate.CANCELLATION) {
        const onCancel = (): void => this.finishLocally(Status.CANCELLED, 'Cancelled by the parent call');
        parent.once('cancelled', onCancel);
        this.unsubscribe = () => parent.removeListener('cancelled', onCancel);
      }
    }
    const context = currentCallContext();
    if (context === undefined) return;
    this.deadline = Math.min(this.deadline, context.deadline);
    if (context.cancelled) {
      this.finishLocally(Status.CANCELLED, 'Cancelled by the incoming call');
      return;
    }
    const parentUnsubscribe = this.unsubscribe;
    const contextUnsubscribe = context.onCancel(() => this.finishLocally(Status.CANCELLED, 'Cancelled by the incoming call'));
    this.unsubscribe = parentUnsubscribe === undefined ? contextUnsubscribe : () => {
      parentUnsubscribe();
      contextUnsubscribe();
    };
  }
}
