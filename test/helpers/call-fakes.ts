/**
 * Fakes for unit tests of `ResilientCall`: a channel side (`CallHost`) whose picks the test scripts,
 * subchannels that hand out fake grpc-js calls, and a recording listener. No network, no real timers:
 * tests install sinon fake timers for `setTimeout`/`Date` (nextTick stays real; see {@link flush}).
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { Metadata, connectivityState, type StatusObject } from '@grpc/grpc-js';
import { ResilientCall } from '../../src/call/resilient-call';
import type { CallHost, HostedCall } from '../../src/call/call-host';
import type { StreamSubchannel } from '../../src/subchannel/types';
import type { TransportStream } from '../../src/transport/types';
import { systemClock } from '../../src/clock';
import { ChannelCounters } from '../../src/call/counters';
import type { ParentCall } from '../../src/call/inheritance';
import type { AttemptEvent, BackoffEvent, CommitEvent, SwitchyardEvents, ThrottledEvent } from '../../src/call/events';
import type { HedgingPolicy, MethodConfig, RetryPolicy } from '../../src/config/types';
import type { ConnectivityState, PickArgs, PickResult } from '../../src/picker/types';
import { createRetryBufferBudget } from '../../src/retry/retry-buffer';
import { RetryThrottle } from '../../src/retry/throttle';

type Listener = Parameters<TransportStream['start']>[1];
type WriteCallback = NonNullable<Parameters<TransportStream['sendMessageWithContext']>[0]['callback']>;

export const METHOD = '/test.Svc/Method';
export const { status: Status } = grpc;

/** Run every process.nextTick queued so far (and what they queue), a few rounds deep. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A transport stream the test drives: it records what the call layer does and replays server events. */
export class FakeStream implements TransportStream {
  metadata: Metadata | undefined;
  listener: Listener | undefined;
  readonly writes: Array<{ message: Buffer; flags: number | undefined }> = [];
  halfClosed = false;
  /** Writes made after the half-close (must stay 0). */
  writesAfterHalfClose = 0;
  reads = 0;
  cancelled: { code: grpc.status; details: string } | undefined;
  ended = false;
  /** When false, write callbacks wait for {@link completeWrites}. */
  autoCompleteWrites = true;
  private pendingCallbacks: WriteCallback[] = [];

  constructor(
    readonly subchannel: FakeSubchannel,
    readonly method: string,
    readonly deadline: number,
    readonly host: string | undefined,
  ) {}

  start(metadata: Metadata, listener: Listener): void {
    this.metadata = metadata;
    this.listener = listener;
  }

  sendMessageWithContext(context: { callback?: WriteCallback; flags?: number }, message: Buffer): void {
    if (this.halfClosed) this.writesAfterHalfClose++;
    this.writes.push({ message, flags: context.flags });
    if (context.callback === undefined) return;
    if (this.autoCompleteWrites) process.nextTick(context.callback);
    else this.pendingCallbacks.push(context.callback);
  }

  completeWrites(): void {
    const callbacks = this.pendingCallbacks;
    this.pendingCallbacks = [];
    for (const callback of callbacks) callback();
  }

  halfClose(): void {
    this.halfClosed = true;
  }

  startRead(): void {
    this.reads++;
  }

  /** Like grpc-js: the status (CANCELLED) still arrives, asynchronously. */
  cancelWithStatus(code: grpc.status, details: string): void {
    if (this.ended || this.cancelled !== undefined) return;
    this.cancelled = { code, details };
    process.nextTick(() => this.end(code, details));
  }

  /** The value of `grpc-previous-rpc-attempts` this attempt sent, or undefined. */
  get previousAttempts(): string | undefined {
    return this.metadata?.get('grpc-previous-rpc-attempts')[0] as string | undefined;
  }

  respondHeaders(metadata = new Metadata()): void {
    this.listener!.onReceiveMetadata(metadata);
  }

  respondMessage(message: Buffer | string): void {
    this.listener!.onReceiveMessage(typeof message === 'string' ? Buffer.from(message) : message);
  }

  /** End the attempt with a status; `trailers` as `{ key: value }`; `progress` as grpc-js would mark it. */
  end(code: grpc.status, details = '', trailers: Record<string, string> = {}, progress?: string): void {
    if (this.ended) return;
    this.ended = true;
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
    const status: StatusObject & { progress?: string } = { code, details, metadata };
    if (progress !== undefined) status.progress = progress;
    this.listener!.onReceiveStatus(status);
  }

  getPeer(): string {
    return this.subchannel.key;
  }
  getCallNumber(): number {
    return 0;
  }
  setCredentials(): void {}
  getAuthContext(): null {
    return null;
  }
}

/** A subchannel that creates {@link FakeStream}s; READY unless the test says otherwise. */
export class FakeSubchannel implements StreamSubchannel {
  readonly address: { host: string; port: number };
  state: ConnectivityState = connectivityState.READY;

  constructor(
    readonly key: string,
    private readonly created: FakeStream[],
  ) {
    const [host, port] = key.split(':');
    this.address = { host: host!, port: Number(port) };
  }

  createStream(method: string, deadline: number, host?: string): TransportStream {
    const call = new FakeStream(this, method, deadline, host);
    this.created.push(call);
    return call;
  }

  getState(): ConnectivityState {
    return this.state;
  }
  getLastError(): undefined {
    return undefined;
  }
  connect(): void {}
  addStateListener(): void {}
  removeStateListener(): void {}
}

/** Every event a host emitted. */
export interface HostEvents {
  attempts: AttemptEvent[];
  backoffs: BackoffEvent[];
  commits: CommitEvent[];
  throttled: ThrottledEvent[];
}

/**
 * The channel side: round-robin over three fake subchannels (skipping the call's `previous` ones when
 * it can), unless `pickResult` scripts the answer. Queued calls wait for {@link FakeHost.publishPicker}.
 */
export class FakeHost implements CallHost {
  readonly clock = systemClock;
  random = (): number => 0.5;
  readonly counters = new ChannelCounters();
  readonly events = new EventEmitter<SwitchyardEvents>();
  readonly retryBudget = createRetryBufferBudget(1024, 4096);
  throttle: RetryThrottle | undefined;
  /** The method config every call gets; `null`: the first resolution is pending (calls wait in `queued`). */
  config: MethodConfig | undefined | null;
  /** Every attempt call created, in order. */
  readonly calls: FakeStream[] = [];
  readonly subchannels: FakeSubchannel[];
  readonly queued = new Set<HostedCall>();
  readonly recorded: HostEvents = { attempts: [], backoffs: [], commits: [], throttled: [] };
  pickResult: ((call: PickArgs) => PickResult) | undefined;
  picks = 0;
  private next = 0;

  constructor() {
    this.subchannels = ['127.0.0.1:1001', '127.0.0.1:1002', '127.0.0.1:1003'].map((key) => new FakeSubchannel(key, this.calls));
    this.events.on('attempt', (e) => this.recorded.attempts.push(e));
    this.events.on('backoff', (e) => this.recorded.backoffs.push(e));
    this.events.on('commit', (e) => this.recorded.commits.push(e));
    this.events.on('throttled', (e) => this.recorded.throttled.push(e));
  }

  methodConfig(): MethodConfig | undefined | null {
    return this.config;
  }

  awaitConfig(call: HostedCall): void {
    this.queued.add(call);
  }

  pick(call: PickArgs): PickResult {
    this.picks++;
    if (this.pickResult !== undefined) return this.pickResult(call);
    const n = this.subchannels.length;
    let chosen = this.subchannels[this.next % n]!;
    for (let i = 0; i < n && call.previous?.includes(chosen); i++) chosen = this.subchannels[++this.next % n]!;
    this.next++;
    return { type: 'complete', subchannel: chosen };
  }

  queue(call: HostedCall): void {
    this.queued.add(call);
  }

  unqueue(call: HostedCall): void {
    this.queued.delete(call);
  }

  failureReason(details: string): string {
    return `fake-target: ${details}`;
  }

  onCallStart(): void {}
  onCallEnd(): void {}

  onThrottled(method: string, kind: 'retry' | 'hedge'): void {
    this.counters.throttled++;
    this.events.emit('throttled', { method, kind, tokens: this.throttle?.tokens ?? 0 });
  }

  onBackoff(method: string, nextAttempt: number, delayMs: number, pushback: boolean): void {
    this.events.emit('backoff', { method, nextAttempt, delayMs, pushback });
  }

  /** A new picker: every queued call picks again (with `pickResult` cleared unless `keep`). */
  publishPicker(keep = false): void {
    if (!keep) this.pickResult = undefined;
    const calls = [...this.queued];
    this.queued.clear();
    for (const call of calls) call.onPickerChanged();
  }

  /** The most recent attempt call. */
  last(): FakeStream {
    const call = this.calls.at(-1);
    if (call === undefined) throw new Error('no attempt yet');
    return call;
  }
}

/** What the call reported to its grpc-js listener (the client side). */
export class RecordingListener implements Listener {
  readonly headers: Metadata[] = [];
  readonly messages: string[] = [];
  readonly statuses: StatusObject[] = [];

  onReceiveMetadata(metadata: Metadata): void {
    this.headers.push(metadata);
  }
  onReceiveMessage(message: Buffer): void {
    this.messages.push(message.toString());
  }
  onReceiveStatus(status: StatusObject): void {
    this.statuses.push(status);
  }

  /** The one final status; throws if there is none or more than one. */
  get status(): StatusObject {
    if (this.statuses.length !== 1) throw new Error(`expected one status, got ${this.statuses.length}`);
    return this.statuses[0]!;
  }
}

/** Options of {@link startCall}. */
export interface StartOptions {
  /** Absolute deadline, ms since the epoch. Default none. */
  deadline?: number;
  metadata?: Metadata;
  /** Send one message and half-close, as a grpc-js unary call does. Default true. */
  unary?: boolean;
  /** A grpc-js server call whose deadline and cancellation propagate (grpc-js `parent` option). */
  parent?: ParentCall;
}

/** Create and start a call on `host`, as grpc-js's Client does for a unary call (start, send, half-close, read). */
export function startCall(host: FakeHost, options: StartOptions = {}): { call: ResilientCall; listener: RecordingListener } {
  const call = new ResilientCall(host, METHOD, options.deadline ?? Infinity, undefined, options.parent ?? null, grpc.propagate.DEFAULTS, 1);
  const listener = new RecordingListener();
  call.start(options.metadata ?? new Metadata(), listener);
  if (options.unary ?? true) {
    call.sendMessageWithContext({}, Buffer.from('request'));
    call.halfClose();
    call.startRead();
  }
  return { call, listener };
}

/** A retry policy retrying UNAVAILABLE: 100 ms, ×2, at most 1 s (ms units, as parsed). */
export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    maxAttempts: 4,
    initialBackoffMs: 100,
    maxBackoffMs: 1000,
    backoffMultiplier: 2,
    retryableStatusCodes: new Set([grpc.status.UNAVAILABLE]),
    ...overrides,
  };
}

/** A hedging policy: 3 attempts, 100 ms apart, UNAVAILABLE non-fatal. */
export function hedgingPolicy(overrides: Partial<HedgingPolicy> = {}): HedgingPolicy {
  return { maxAttempts: 3, hedgingDelayMs: 100, nonFatalStatusCodes: new Set([grpc.status.UNAVAILABLE]), ...overrides };
}

/** A fresh, full throttle of `maxTokens` tokens. */
export function throttle(maxTokens = 10, tokenRatio = 0.1): RetryThrottle {
  return new RetryThrottle({ maxTokens, tokenRatio });
}
