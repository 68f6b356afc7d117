import * as grpc from '@grpc/grpc-js';
import type { Subchannel } from '../picker/types';
import type { AttemptKind } from './events';

/** A grpc-js call object, as returned by `Channel.createCall`. */
export type GrpcCall = ReturnType<grpc.ChannelInterface['createCall']>;
type WriteCallback = NonNullable<Parameters<GrpcCall['sendMessageWithContext']>[0]['callback']>;

/** A subchannel that can carry an attempt: what the call layer needs beyond the policy's view. */
export interface AttemptSubchannel extends Subchannel {
  /**
   * Start a grpc-js call on this connection.
   * @param method full method path, `/package.Service/Method`.
   * @param deadline absolute (a `Date`, or ms since the epoch; `Infinity` for none).
   * @param host the call's `:authority` override (grpc-js `CallOptions.host`), if any.
   */
  createCall(method: string, deadline: grpc.Deadline, host?: string): GrpcCall;
}

/** Receives the events of the attempts it started. */
export interface AttemptOwner {
  onAttemptMetadata(attempt: Attempt, metadata: grpc.Metadata): void;
  onAttemptMessage(attempt: Attempt, message: Buffer): void;
  onAttemptStatus(attempt: Attempt, status: grpc.StatusObject): void;
}

/** An outgoing message waiting for the previous write of the same attempt to complete. */
interface Outgoing {
  readonly message: Buffer;
  readonly flags: number | undefined;
  readonly callback: WriteCallback | undefined;
}

/**
 * One attempt of a call (gRFC A6): one grpc-js call on one subchannel, or a local failure when the pick
 * failed. It is the grpc-js listener of that call and forwards each event, tagged with itself, to the
 * call that owns it.
 *
 * Writes are passed down one at a time, the next after the previous one's write callback: a grpc-js
 * call holds a single pending message until its stream exists, so replaying a retry buffer in one go
 * would keep only the last message. The half-close is passed down with the last queued message
 * (grpc-js sends it after the message it is writing).
 */
export class Attempt {
  /** A read was requested from this attempt's grpc-js call and no message has answered it yet. */
  reading = false;
  private writing = false;
  private writeCallback: WriteCallback | undefined;
  private queue: Outgoing[] | undefined;
  private halfClosePending = false;

  constructor(
    private readonly owner: AttemptOwner,
    readonly call: GrpcCall,
    /** Where the attempt went; undefined for a failed pick. */
    readonly subchannel: AttemptSubchannel | undefined,
    /** 1-based; transparent retries keep the number of the attempt they replace. */
    readonly number: number,
    readonly kind: AttemptKind,
  ) {}

  /** The endpoint's address key (`127.0.0.1:50051`), or `''` when the pick failed. */
  get endpoint(): string {
    return this.subchannel?.key ?? '';
  }

  /**
   * Send one serialized message, in order after the ones sent before.
   * @param callback called when grpc-js completed the write (only for a committed call's messages).
   */
  send(message: Buffer, flags: number | undefined, callback?: WriteCallback): void {
    if (this.writing) {
      (this.queue ??= []).push({ message, flags, callback });
      return;
    }
    this.write(message, flags, callback);
  }

  /**
   * Send a message of a committed call straight to grpc-js when nothing is queued. The writer waits for
   * `callback` before its next message (grpc-js's stream backpressure), so writes stay one at a time
   * without switchyard tracking them.
   */
  sendCommitted(message: Buffer, flags: number | undefined, callback: WriteCallback | undefined): void {
    if (this.writing) this.send(message, flags, callback);
    else this.call.sendMessageWithContext({ flags, callback }, message);
  }

  /** Half-close after every message sent so far. */
  halfClose(): void {
    if (this.queue !== undefined && this.queue.length > 0) this.halfClosePending = true;
    else this.call.halfClose();
  }

  /** Cancel the grpc-js call; its status still arrives (as CANCELLED) through `onReceiveStatus`. */
  cancel(details: string): void {
    this.queue = undefined;
    this.halfClosePending = false;
    this.call.cancelWithStatus(grpc.status.CANCELLED, details);
  }

  private write(message: Buffer, flags: number | undefined, callback: WriteCallback | undefined): void {
    this.writing = true;
    this.writeCallback = callback;
    this.call.sendMessageWithContext({ flags, callback: this.onWritten }, message);
  }

  private readonly onWritten = (error?: Error | null): void => {
    this.writing = false;
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

  onReceiveMetadata(metadata: grpc.Metadata): void {
    this.owner.onAttemptMetadata(this, metadata);
  }

  onReceiveMessage(message: Buffer): void {
    this.reading = false;
    this.owner.onAttemptMessage(this, message);
  }

  onReceiveStatus(status: grpc.StatusObject): void {
    this.owner.onAttemptStatus(this, status);
  }
}

/**
 * A grpc-js call object for an attempt whose pick failed (the picker's `fail` result): it never touches
 * the network and ends with `status` on the next tick after `start`. grpc-js, too, treats a failed pick
 * as a processed attempt that the retry policy may retry (gRFC A6).
 */
export function failedPickCall(code: grpc.status, details: string): GrpcCall {
  let listener: Parameters<GrpcCall['start']>[1] | undefined;
  let ended = false;
  const end = (endCode: grpc.status, endDetails: string): void => {
    if (ended || listener === undefined) return;
    ended = true;
    listener.onReceiveStatus({ code: endCode, details: endDetails, metadata: new grpc.Metadata() });
  };
  return {
    start(_metadata, callListener) {
      listener = callListener;
      process.nextTick(end, code, details);
    },
    cancelWithStatus(cancelCode, cancelDetails) {
      process.nextTick(end, cancelCode, cancelDetails);
    },
    getPeer: () => '',
    sendMessageWithContext(context) {
      if (context.callback !== undefined) process.nextTick(context.callback);
    },
    startRead() {},
    halfClose() {},
    getCallNumber: () => 0,
    setCredentials() {},
    getAuthContext: () => null,
  };
}
