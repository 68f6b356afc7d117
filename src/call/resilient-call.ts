import * as grpc from '@grpc/grpc-js';
import type { TimerHandle } from '../clock';
import type { MethodConfig } from '../config/types';
import type { AttemptEndedHook, PickArgs, Subchannel } from '../picker/types';
import type { CallPolicy, PolicyCall } from '../retry/call-policy';
import { Hedger } from '../retry/hedger';
import { Retrier } from '../retry/retrier';
import { recordThrottleOutcome } from '../retry/call-policy';
import { releaseCall, tryBuffer, type RetryBufferBudget, type RetryBufferCall } from '../retry/retry-buffer';
import { currentCallContext, type CallContext } from '../deadline/context';
import { deadlineFromGrpc } from '../deadline/deadline';
import type { StreamSubchannel } from '../subchannel/types';
import { failedStream } from '../transport/failed-stream';
import type { AttemptStatus, TransportStream } from '../transport/types';
import type { CallTrace } from '../telemetry/observer';
import { Attempt, type AttemptOwner } from './attempt';
import type { CallHost, HostedCall } from './call-host';
import { cancelledAtDeadline, CONTEXT_CANCELLED_DETAILS, inheritedDeadline, subscribeParentCancellation, type ParentCall } from './inheritance';
import type { AttemptKind, CommitReason } from './events';

const { status: Status, connectivityState: State } = grpc;

/** A call without a retry or hedging policy has no retryable or non-fatal codes (gRFC A6 throttling). */
const NO_CODES: ReadonlySet<grpc.status> = new Set();

type MessageContext = Parameters<TransportStream['sendMessageWithContext']>[0];
type Listener = Parameters<TransportStream['start']>[1];

/** An outgoing message kept for replay; `callback` only for a message that did not fit the buffer. */
interface Buffered {
  readonly message: Buffer;
  readonly flags: number | undefined;
  readonly callback: MessageContext['callback'];
}

/**
 * A call on a switchyard channel: the gRFC A6 state machine over one or more attempts.
 *
 * - Effective deadline (absolute ms): the earliest of the caller's deadline, the method config's
 *   `timeout`, a grpc-js `parent` call's deadline and the `propagateDeadlines` context's; it covers
 *   every attempt, backoff and wait for a pick. An attempt is never started after it.
 * - Outgoing messages are buffered (per-call and per-channel limits) until the call commits: on
 *   response headers, a response message, a final status, or a buffer overflow (A6 "Buffering").
 * - A failed uncommitted attempt is retried per the retry policy (backoff, pushback, throttling), or
 *   hedged per the hedging policy. A failed pick (non-wait-for-ready) is a failed attempt, as in grpc-js;
 *   a DROP pick ends the call. A pick of a subchannel that is no longer READY waits for the next picker
 *   (the attempt would never have left the client: A6 "Transparent Retries").
 * - Exactly one `attempt` event per attempt, when it ends.
 *
 * Implements grpc-js's `Call` interface (what `Channel.createCall` returns), so grpc-js's `Client`,
 * interceptors and (de)serialization sit on top unchanged.
 */
export class ResilientCall implements AttemptOwner, PickArgs, RetryBufferCall, PolicyCall<Attempt>, HostedCall {
  /** PickArgs: the request metadata (set by `start`). */
  metadata!: grpc.Metadata;
  /** PickArgs: subchannels this call's earlier attempts used (only tracked with a retry or hedging policy, from the first attempt on). */
  previous: Subchannel[] | undefined;
  /** RetryBufferCall: bytes of `buffer` charged to the channel's retry buffer budget. */
  retryBufferedBytes = 0;
  readonly retryBudget: RetryBufferBudget;

  private listener: Listener | undefined;
  private credentials: grpc.CallCredentials | undefined;
  /** @internal The effective deadline: absolute ms since the epoch, `Infinity` for none (final after `start`). */
  deadline: number;
  private startedAt = 0;
  private waitForReady = false;
  /** The method config; `null` while the call waits for the channel's first resolver result. */
  private config: MethodConfig | undefined | null;
  /** The method's retry or hedging policy, if any. */
  private policy: CallPolicy<Attempt> | undefined;
  /** Attempts in flight; after the commit at most the committed one. */
  private readonly live: Attempt[] = [];
  private committed: Attempt | undefined;
  private lastAttempt: Attempt | undefined;
  /** Attempts started (including failed picks), not counting transparent retries. */
  private attemptCount = 0;
  private refusedRetried = false;
  /** Kinds of the attempts waiting for the next picker. */
  /** Kinds of the attempts waiting for a picker; allocated only when a pick queues. */
  private pendingPicks: AttemptKind[] | undefined;
  private buffer: Buffered[] | undefined = [];
  private overflowed = false;
  private halfClosed = false;
  private readPending = false;
  private deadlineTimer: TimerHandle | undefined;
  private unsubscribeParent: (() => void) | undefined;
  /** The `propagateDeadlines` / `runWithDeadline` context this call listens to for cancellation, if any. */
  private context: CallContext | undefined;
  private onContextCancel: (() => void) | undefined;
  private done = false;
  /** The channel closed while this call was in flight: nothing more is retried or hedged. */
  private channelClosed = false;
  /** Telemetry of this call (src/telemetry), when the channel records any. */
  private trace: CallTrace | undefined;

  /**
   * @param deadline the caller's deadline: absolute (`Date` or ms since the epoch; `Infinity` for none).
   * @param authorityOverride grpc-js `CallOptions.host`.
   */
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
    const clock = host.clock;
    this.metadata = metadata;
    this.listener = listener;
    this.startedAt = clock.now();
    host.counters.calls++;
    host.onCallStart(this);
    const observer = host.callObserver;
    if (observer !== undefined) this.trace = observer.startCall(this.method);
    const context = currentCallContext();
    this.deadline = inheritedDeadline(this.deadline, this.parent, this.propagateFlags, context);
    // null only before the channel's first resolver result: the call waits for it (see `awaitConfig`).
    const config = host.methodConfig(this.method);
    if (config !== null) this.applyConfig(config);
    else this.config = null;
    if (this.deadline !== Infinity && this.deadline <= this.startedAt) {
      this.finishLocally(Status.DEADLINE_EXCEEDED, 'Deadline exceeded before the call started');
      return;
    }
    if (context?.cancelled) {
      this.onInheritedCancel(CONTEXT_CANCELLED_DETAILS);
      return;
    }
    if (this.parent !== null) {
      this.unsubscribeParent = subscribeParentCancellation(this.parent, this.propagateFlags, (details) => this.onInheritedCancel(details));
    }
    // One closure per call, and none in a scope that nothing can cancel (a bare runWithDeadline).
    if (context?.source !== undefined) {
      const onCancel = (): void => this.onInheritedCancel(CONTEXT_CANCELLED_DETAILS);
      context.addCancelListener(onCancel);
      this.context = context;
      this.onContextCancel = onCancel;
    }
    if (this.deadline !== Infinity) this.armDeadlineTimer();
    if (config === null) host.awaitConfig(this);
    else this.startFirstAttempt();
  }

  /**
   * The method config is known (at `start`, or when the channel's first resolver result came in): its
   * `timeout` shortens the deadline (counted from the call's start), its retry or hedging policy and
   * `waitForReady` apply.
   */
  private applyConfig(config: MethodConfig | undefined): void {
    this.config = config;
    if (config !== undefined) {
      if (config.timeoutMs !== undefined) this.deadline = Math.min(this.deadline, this.startedAt + config.timeoutMs);
      if (config.retryPolicy !== undefined) this.policy = new Retrier(this, config.retryPolicy, this.host);
      else if (config.hedgingPolicy !== undefined) this.policy = new Hedger(this, config.hedgingPolicy, this.host);
    }
    // The client API's waitForReady overrides the method config's (doc/service_config.md).
    this.waitForReady = this.metadata.getOptions().waitForReady ?? config?.waitForReady ?? false;
  }

  private startFirstAttempt(): void {
    this.startAttempt('initial');
    this.policy?.start();
  }

  /**
   * The channel's first resolver result (or error) is in: choose the method config now (gRFC A21 /
   * `doc/service_config.md`: a call uses the config of the resolution it waited for). Only calls started
   * before that get here.
   */
  private onConfigSelected(): void {
    const config = this.host.methodConfig(this.method);
    if (config === null) {
      this.host.awaitConfig(this);
      return;
    }
    const before = this.deadline;
    this.applyConfig(config);
    if (this.deadline < before) {
      // The method's timeout is earlier than the caller's deadline.
      if (this.deadlineTimer !== undefined) this.host.clock.clearTimeout(this.deadlineTimer);
      this.armDeadlineTimer();
    }
    const limit = config?.maxRequestMessageBytes;
    const tooLarge = limit === undefined ? undefined : this.buffer?.find((item) => item.message.length > limit);
    if (tooLarge !== undefined) {
      this.finishLocally(Status.RESOURCE_EXHAUSTED, `Sent message larger than max (${tooLarge.message.length} vs. ${limit})`);
      return;
    }
    this.startFirstAttempt();
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    if (this.done) {
      // The status carries the failure; the writer must still see its write complete (as in grpc-js),
      // or a stream writing with `write()` / 'drain' never reaches 'finish'.
      if (context.callback !== undefined) process.nextTick(context.callback);
      return;
    }
    const limit = this.config?.maxRequestMessageBytes;
    if (limit !== undefined && message.length > limit) {
      this.finishLocally(Status.RESOURCE_EXHAUSTED, `Sent message larger than max (${message.length} vs. ${limit})`);
      if (context.callback !== undefined) process.nextTick(context.callback);
      return;
    }
    const committed = this.committed;
    if (committed !== undefined) {
      committed.send(message, context.flags, context.callback);
      return;
    }
    const buffer = this.buffer!;
    if (!this.overflowed && tryBuffer(this, message.length)) {
      buffer.push({ message, flags: context.flags, callback: undefined });
      for (const attempt of this.live) attempt.send(message, context.flags);
      // Kept for replay: the writer may go on (grpc-js does the same).
      if (context.callback !== undefined) process.nextTick(context.callback);
      return;
    }
    // gRFC A6 "Buffering": a message that does not fit commits the call.
    this.overflowed = true;
    const target = this.live[0];
    if (target !== undefined) {
      this.commit(target, 'buffer-limit');
      target.send(message, context.flags, context.callback);
    } else {
      // Between attempts: the next attempt replays the buffer, this message included, and commits.
      buffer.push({ message, flags: context.flags, callback: context.callback });
    }
  }

  halfClose(): void {
    if (this.done || this.halfClosed) return;
    this.halfClosed = true;
    for (const attempt of this.live) attempt.halfClose();
  }

  startRead(): void {
    if (this.done) return;
    this.readPending = true;
    for (const attempt of this.live) this.read(attempt);
  }

  cancelWithStatus(code: grpc.status, details: string): void {
    this.finishLocally(code, details);
  }

  getPeer(): string {
    return (this.committed ?? this.lastAttempt)?.endpoint || 'unknown';
  }

  getCallNumber(): number {
    return this.callNumber;
  }

  setCredentials(credentials: grpc.CallCredentials): void {
    this.credentials = credentials;
  }

  getAuthContext(): ReturnType<TransportStream['getAuthContext']> {
    return (this.committed ?? this.lastAttempt)?.call.getAuthContext() ?? null;
  }

  // ---- attempts ---------------------------------------------------------------------------------

  /**
   * @internal The channel has a new picker: retry the picks this call is waiting for; or, for a call
   * started before the first resolver result, the service config is now known: start.
   */
  onPickerChanged(): void {
    // A drain may reach a call that ended meanwhile (a listener closed the channel during it).
    if (this.done) return;
    if (this.config === null) {
      this.onConfigSelected();
      return;
    }
    const kinds = this.pendingPicks;
    this.pendingPicks = undefined;
    if (kinds !== undefined) for (const kind of kinds) this.startAttempt(kind);
  }

  /**
   * @internal The channel closed: a call with no attempt in flight (waiting for the first resolution,
   * a pick or a retry backoff) ends now with UNAVAILABLE; one in flight finishes on its connection, but
   * nothing more is retried or hedged.
   */
  onChannelClosed(): void {
    if (this.done) return;
    this.channelClosed = true;
    if (this.live.length === 0) this.finishLocally(Status.UNAVAILABLE, 'Channel closed');
    else this.policy?.stop();
  }

  private startAttempt(kind: AttemptKind): void {
    if (this.done) return;
    const result = this.host.pick(this);
    // The pick may have run channel code that ended this call (close() from an event listener).
    if (this.done) {
      if (result.type === 'complete') result.onAttemptEnded?.(Status.UNAVAILABLE, undefined, 0);
      return;
    }
    if (result.type === 'complete') {
      const subchannel = result.subchannel as StreamSubchannel;
      const state = subchannel.getState();
      if (state === State.READY) {
        this.launch(subchannel, kind, undefined, result.onAttemptEnded);
        return;
      }
      // The pick is not used: the policy's feedback hears so at once.
      result.onAttemptEnded?.(Status.UNAVAILABLE, undefined, 0);
      // A pick that raced with a disconnect would never leave the client: wait for the policy's next
      // picker instead, as grpc-go and grpc-js do. A shut-down subchannel may never get one (closed channel).
      if (state !== State.SHUTDOWN) this.waitForPicker(kind);
      else this.launch(undefined, kind, failedStream(Status.UNAVAILABLE, this.host.failureReason(`${subchannel.key} is shut down`)), undefined);
    } else if (result.type === 'queue' || (result.type === 'fail' && this.waitForReady)) {
      // A wait-for-ready call waits out a failing picker too.
      this.waitForPicker(kind);
    } else if (result.type === 'fail') {
      this.launch(undefined, kind, failedStream(result.status.code, this.host.failureReason(result.status.details)), undefined);
    } else {
      // gRFC A6: a dropped call is never retried.
      this.finishLocally(result.status.code, result.status.details);
    }
  }

  private waitForPicker(kind: AttemptKind): void {
    (this.pendingPicks ??= []).push(kind);
    this.host.queue(this);
  }

  /**
   * Start an attempt on `subchannel`, or, without one, the local failure `failed` of a failed pick.
   * @param onEnded the pick's load feedback, called when this attempt ends.
   */
  private launch(subchannel: StreamSubchannel | undefined, kind: AttemptKind, failed: TransportStream | undefined, onEnded: AttemptEndedHook | undefined): void {
    const host = this.host;
    const number = kind === 'transparent' ? this.attemptCount : ++this.attemptCount;
    const call = failed ?? subchannel!.createStream(this.method, this.deadline, this.authorityOverride);
    if (this.credentials !== undefined) call.setCredentials(this.credentials);
    const attempt = new Attempt(this, call, subchannel, number, kind, onEnded, onEnded === undefined ? 0 : host.clock.now());
    this.live.push(attempt);
    this.lastAttempt = attempt;
    // Only retries and hedges avoid earlier subchannels; a call without a policy keeps `previous` unset.
    if (subchannel !== undefined && this.policy !== undefined) (this.previous ??= []).push(subchannel);
    const counters = host.counters;
    counters.attempts++;
    if (kind === 'retry') counters.retries++;
    else if (kind === 'hedge') counters.hedges++;
    else if (kind === 'transparent') counters.transparentRetries++;
    let metadata = this.metadata;
    if (number > 1) {
      // gRFC A6: retries and hedges tell the server how many attempts came before.
      metadata = metadata.clone();
      metadata.set('grpc-previous-rpc-attempts', String(number - 1));
    }
    // Telemetry (src/telemetry): per-attempt record (it may send a copy of the metadata carrying the
    // trace context, gRFC A72) and the subchannel's call counters.
    const trace = this.trace;
    if (trace !== undefined) {
      const attemptTrace = trace.startAttempt(kind, number - 1, attempt.endpoint, metadata, metadata !== this.metadata);
      attempt.trace = attemptTrace;
      metadata = attemptTrace.metadata;
    }
    const counts = subchannel === undefined ? undefined : host.subchannelCalls?.(subchannel.key);
    if (counts !== undefined) {
      counts.started++;
      counts.inFlight++;
      attempt.counts = counts;
    }
    call.start(metadata, attempt);
    const buffer = this.buffer;
    if (buffer !== undefined) for (const item of buffer) attempt.send(item.message, item.flags, item.callback);
    if (this.halfClosed) attempt.halfClose();
    if (this.readPending) this.read(attempt);
    if (this.overflowed && !this.done) this.commit(attempt, 'buffer-limit');
  }

  private read(attempt: Attempt): void {
    if (attempt.reading) return;
    attempt.reading = true;
    attempt.call.startRead();
  }

  onAttemptMetadata(attempt: Attempt, metadata: grpc.Metadata): void {
    if (this.done) return;
    if (this.committed === undefined) this.commit(attempt, 'headers');
    if (this.committed === attempt) this.listener!.onReceiveMetadata(metadata);
  }

  onAttemptMessage(attempt: Attempt, message: Buffer): void {
    if (this.done) return;
    if (this.committed === undefined) this.commit(attempt, 'message');
    if (this.committed !== attempt) return;
    const limit = this.config?.maxResponseMessageBytes;
    if (limit !== undefined && message.length > limit) {
      this.finishLocally(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${message.length} vs. ${limit})`);
      return;
    }
    this.readPending = false;
    this.listener!.onReceiveMessage(message);
  }

  onAttemptStatus(attempt: Attempt, status: grpc.StatusObject): void {
    attempt.onEnded?.(status.code, status.metadata, this.host.clock.now() - attempt.pickedAt);
    const index = this.live.indexOf(attempt);
    if (index >= 0) this.live.splice(index, 1);
    if (this.done || (this.committed !== undefined && this.committed !== attempt)) {
      this.emitAttempt(attempt, status, false);
      return;
    }
    if (this.committed === attempt) {
      this.recordOutcome(status);
      this.finish(status, attempt, true);
      return;
    }
    // gRFC A6 "Transparent retries": never left the client → retry until the deadline; refused by the
    // server's transport → retry once. Neither counts as an attempt nor touches the throttle.
    const progress = (status as AttemptStatus).progress;
    if (!this.channelClosed && (progress === 'NOT_STARTED' || (progress === 'REFUSED' && !this.refusedRetried))) {
      if (progress === 'REFUSED') this.refusedRetried = true;
      this.emitAttempt(attempt, status, false);
      this.startAttempt('transparent');
      return;
    }
    if (status.code !== Status.OK && this.policy !== undefined && !this.channelClosed) {
      this.policy.onFailure(attempt, status);
    } else {
      this.recordOutcome(status);
      this.commitAndFinish(attempt, status, true);
    }
  }

  /**
   * gRFC A6 retry throttling counts "every outgoing RPC, regardless of service or method invoked": the
   * policy counts its own calls' outcomes; a call without one still refills the bucket when it succeeds,
   * and costs a token when the server's pushback said not to retry — its only failure A6 counts, since
   * no code is retryable or non-fatal without a policy (grpc-go counts the same; C-core counts neither).
   */
  private recordOutcome(status: grpc.StatusObject): void {
    if (this.policy !== undefined) this.policy.recordOutcome(status);
    else recordThrottleOutcome(this.host.throttle, NO_CODES, status);
  }

  // ---- PolicyCall: what the retry or hedging policy sees (internal) ---------------------------

  /** @internal */
  attemptsStarted(): number {
    return this.attemptCount + (this.pendingPicks?.length ?? 0);
  }

  /** @internal */
  hasOutstandingAttempts(): boolean {
    return this.live.length > 0 || this.pendingPicks !== undefined;
  }

  /** @internal */
  isSettled(): boolean {
    return this.done || this.committed !== undefined;
  }

  /** @internal */
  startPolicyAttempt(kind: 'retry' | 'hedge'): void {
    this.startAttempt(kind);
  }

  /** @internal */
  reportFailedAttempt(attempt: Attempt, status: grpc.StatusObject): void {
    this.emitAttempt(attempt, status, false);
  }

  /** @internal */
  endWith(attempt: Attempt, status: grpc.StatusObject, reported: boolean): void {
    this.commitAndFinish(attempt, status, !reported);
  }

  // ---- commit and end ---------------------------------------------------------------------------

  /** A message that overflowed the buffer between attempts never went out: its writer still gets its callback. */
  private completeBufferedWrites(): void {
    const buffer = this.buffer;
    if (buffer === undefined || !this.overflowed) return;
    for (const item of buffer) if (item.callback !== undefined) process.nextTick(item.callback);
  }

  private releaseBuffer(): void {
    if (this.buffer === undefined) return;
    this.buffer = undefined;
    releaseCall(this);
  }

  /** gRFC A6: from now on only `attempt` counts; the others are cancelled, nothing is retried or hedged. */
  private commit(attempt: Attempt, reason: CommitReason): void {
    this.committed = attempt;
    this.releaseBuffer();
    this.policy?.stop();
    if (this.pendingPicks !== undefined) {
      this.pendingPicks = undefined;
      this.host.unqueue(this);
    }
    this.cancelLiveExcept(attempt, 'Another attempt committed');
    this.trace?.commit(attempt.number, attempt.endpoint, reason);
    const events = this.host.events;
    if (events.listenerCount('commit') > 0) {
      events.emit('commit', { method: this.method, attempt: attempt.number, endpoint: attempt.endpoint, reason });
    }
  }

  private commitAndFinish(attempt: Attempt, status: grpc.StatusObject, emit: boolean): void {
    if (this.committed !== attempt) this.commit(attempt, 'status');
    this.finish(status, attempt, emit);
  }

  /** @param code CANCELLED, or DEADLINE_EXCEEDED for attempts the call's deadline cut off. */
  private cancelLiveExcept(keep: Attempt | undefined, details: string, code: grpc.status = Status.CANCELLED): void {
    const live = this.live;
    if (live.length === 0 || (live.length === 1 && live[0] === keep)) return;
    const all = live.splice(0);
    for (const attempt of all) {
      if (attempt === keep) live.push(attempt);
      else attempt.cancel(code, details);
    }
  }

  private armDeadlineTimer(): void {
    this.deadlineTimer = this.host.clock.setTimeout(() => this.onDeadline(), this.deadline - this.host.clock.now());
  }

  private onDeadline(): void {
    this.deadlineTimer = undefined;
    const elapsed = this.host.clock.now() - this.startedAt;
    this.finishLocally(Status.DEADLINE_EXCEEDED, `Deadline exceeded after ${elapsed} ms (${this.attemptCount} attempt(s))`);
  }

  /** The grpc-js `parent` call or the `propagateDeadlines` context was cancelled (see {@link cancelledAtDeadline}). */
  private onInheritedCancel(details: string): void {
    const now = this.host.clock.now();
    if (cancelledAtDeadline(now, this.deadline)) {
      this.finishLocally(Status.DEADLINE_EXCEEDED, `Deadline exceeded after ${now - this.startedAt} ms (propagated from the incoming call)`);
    } else {
      this.finishLocally(Status.CANCELLED, details);
    }
  }

  /** End the call with a status made here (not by a server): cancel attempts, report on the next tick. */
  private finishLocally(code: grpc.status, details: string): void {
    if (this.done) return;
    this.finish({ code, details, metadata: new grpc.Metadata() }, undefined, false);
  }

  /**
   * End the call once. `attempt` is the attempt whose status this is (`emit`: its `attempt` event is
   * still due); without one the status was made here and is reported on the next tick (never
   * synchronously inside a caller's method).
   */
  private finish(status: grpc.StatusObject, attempt: Attempt | undefined, emit: boolean): void {
    if (this.done) return;
    this.done = true;
    if (attempt !== undefined && emit) this.emitAttempt(attempt, status, true);
    const host = this.host;
    const clock = host.clock;
    if (this.deadlineTimer !== undefined) clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.policy?.stop();
    if (this.pendingPicks !== undefined || this.config === null) {
      this.pendingPicks = undefined;
      host.unqueue(this);
    }
    if (attempt !== undefined) this.cancelLiveExcept(undefined, 'Call ended');
    else this.cancelLiveExcept(undefined, status.details, status.code === Status.DEADLINE_EXCEEDED ? Status.DEADLINE_EXCEEDED : Status.CANCELLED);
    this.completeBufferedWrites();
    this.releaseBuffer();
    this.unsubscribeParent?.();
    this.unsubscribeParent = undefined;
    if (this.context !== undefined) {
      this.context.removeCancelListener(this.onContextCancel!);
      this.context = undefined;
      this.onContextCancel = undefined;
    }
    host.onCallEnd(this);
    this.trace?.end(status.code, status.details);
    if (status.code === Status.OK) host.counters.succeeded++;
    else {
      host.counters.failed++;
      if (status.code === Status.DEADLINE_EXCEEDED) host.counters.deadlineExceeded++;
    }
    const listener = this.listener;
    if (listener === undefined) return;
    if (attempt === undefined) process.nextTick(deliverStatus, listener, status);
    else listener.onReceiveStatus(status);
  }

  private emitAttempt(attempt: Attempt, status: grpc.StatusObject, committed: boolean): void {
    const events = this.host.events;
    if (events.listenerCount('attempt') === 0) return;
    events.emit('attempt', {
      method: this.method, attempt: attempt.number, kind: attempt.kind, endpoint: attempt.endpoint,
      code: status.code, details: status.details, committed,
    });
  }
}

/** Hand a locally made status to the call's listener (a module function: `nextTick` then needs no closure). */
function deliverStatus(listener: Listener, status: grpc.StatusObject): void {
  listener.onReceiveStatus(status);
}
