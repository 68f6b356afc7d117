import { status as Status, type StatusObject, type Metadata } from '@grpc/grpc-js';
import type { AttemptEndedHook } from '../picker/types';
import type { StreamSubchannel } from '../subchannel/types';
import type { TransportStream } from '../transport/types';
import type { AttemptTrace } from '../telemetry/observer';
import type { SubchannelCallCounts } from '../telemetry/subchannels';
import type { AttemptKind } from './events';

type WriteCallback = NonNullable<Parameters<TransportStream['sendMessageWithContext']>[0]['callback']>;

/** Receives the events of the attempts it started. */
export interface AttemptOwner {
  onAttemptMetadata(attempt: Attempt, metadata: Metadata): void;
  onAttemptMessage(attempt: Attempt, message: Buffer): void;
  onAttemptStatus(attempt: Attempt, status: StatusObject): void;
}

/** An outgoing message waiting for the previous write of the same attempt to complete. */
interface Outgoing {
  readonly message: Buffer;
  readonly flags: number | undefined;
  readonly callback: WriteCallback | undefined;
}

/**
 * One attempt of a call (gRFC A6): one transport stream on one subchannel, or a local failure when the pick
 * failed. It is the listener of that stream and forwards each event, tagged with itself, to the
 * call that owns it.
 *
 * Writes are passed down one at a time, the next after the previous one's write callback: a grpc-js
 * call holds a single pending message until its stream exists, so replaying a retry buffer in one go
 * would keep only the last message. The half-close is passed down with the last queued message
 * (grpc-js sends it after the message it is writing).
 *
 * Every write callback completes, whatever the transport does: when the attempt ends (its status, or
 * `cancel`), the callbacks of the write in flight and of the queued ones run on the next tick, and
 * the transport's later completion is ignored. A writer waiting for 'drain' never hangs on a stream
 * that ended early.
 */
export class Attempt {
  /** A read was requested from this attempt's grpc-js call and no message has answered it yet. */
  reading = false;
  private writing = false;
  /** The attempt ended: its write callbacks have been released. */
  private ended = false;
  private writeCallback: WriteCallback | undefined;
  private queue: Outgoing[] | undefined;
  private halfClosePending = false;
  // ---- telemetry (src/telemetry), set by the call right after construction when the channel records it
  /** This attempt's metrics/span/log record. */
  trace: AttemptTrace | undefined = undefined;
  /** The subchannel's call counters (`channel.snapshot()`); counted as started by the call. */
  counts: SubchannelCallCounts | undefined = undefined;

  constructor(
    private readonly owner: AttemptOwner,
    readonly call: TransportStream,
    /** Where the attempt went; undefined for a failed pick. */
    readonly subchannel: StreamSubchannel | undefined,
    /** 1-based; transparent retries keep the number of the attempt they replace. */
    readonly number: number,
    readonly kind: AttemptKind,
    /** The picking policy's load feedback for this attempt, if it asked for it. */
    readonly onEnded: AttemptEndedHook | undefined,
    /** Clock ms of the pick (only read with `onEnded`). */
    readonly pickedAt: number,
  ) {}

  /** The endpoint's address key (`127.0.0.1:50051`), or `''` when the pick failed. */
  get endpoint(): string {
    return this.subchannel?.key ?? '';
  }

  /**
   * Send one serialized message, in order after the ones sent before.
   * @param callback called when the transport completed the write, or when the attempt ended (only for
   *   a committed call's messages).
   */
  send(message: Buffer, flags: number | undefined, callback?: WriteCallback): void {
    if (this.ended) {
      if (callback !== undefined) process.nextTick(callback);
      return;
    }
    if (this.writing) {
      (this.queue ??= []).push({ message, flags, callback });
      return;
    }
    this.write(message, flags, callback);
  }

  /** Half-close after every message sent so far. */
  halfClose(): void {
    if (this.queue !== undefined && this.queue.length > 0) this.halfClosePending = true;
    else this.call.halfClose();
  }

  /**
   * Cancel the transport stream; its status still arrives (with `code`) through `onReceiveStatus`.
   * @param code CANCELLED, or DEADLINE_EXCEEDED when the call's deadline cut the attempt off.
   */
  cancel(code: Status, details: string): void {
    this.releaseWrites();
    this.call.cancelWithStatus(code, details);
  }

  private write(message: Buffer, flags: number | undefined, callback: WriteCallback | undefined): void {
    this.writing = true;
    this.writeCallback = callback;
    this.trace?.sent(message.length);
    this.call.sendMessageWithContext({ flags, callback: this.onWritten }, message);
  }

  private readonly onWritten = (error?: Error | null): void => {
    this.writing = false;
    if (this.ended) return;
    const callback = this.writeCallback;
    this.writeCallback = undefined;
    const next = this.queue?.shift();
    if (next !== undefined) this.write(next.message, next.flags, next.callback);
    // grpc-js orders a half-close after the one message it is still writing.
    if (this.halfClosePending && (this.queue === undefined || this.queue.length === 0)) {
      this.halfClosePending = false;
      this.call.halfClose();
    }
    callback?.(error);
  };

  /** The attempt is over: every write callback still pending completes on the next tick. */
  private releaseWrites(): void {
    if (this.ended) return;
    this.ended = true;
    const inFlight = this.writeCallback;
    const queue = this.queue;
    this.writeCallback = undefined;
    this.queue = undefined;
    this.halfClosePending = false;
    if (inFlight !== undefined) process.nextTick(inFlight);
    if (queue !== undefined) for (const item of queue) if (item.callback !== undefined) process.nextTick(item.callback);
  }

  onReceiveMetadata(metadata: Metadata): void {
    this.owner.onAttemptMetadata(this, metadata);
  }

  onReceiveMessage(message: Buffer): void {
    this.reading = false;
    this.trace?.received(message.length);
    this.owner.onAttemptMessage(this, message);
  }

  onReceiveStatus(status: StatusObject): void {
    this.releaseWrites();
    this.trace?.end(status.code, status.details);
    const counts = this.counts;
    if (counts !== undefined) {
      counts.inFlight--;
      if (status.code === Status.OK) counts.succeeded++;
      else counts.failed++;
    }
    this.owner.onAttemptStatus(this, status);
  }
}
