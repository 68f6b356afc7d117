import type * as grpc from '@grpc/grpc-js';
import type { Subchannel } from '../picker/types';
import type { AttemptKind } from './events';

/** A grpc-js call object, as returned by `Channel.createCall`. */
export type GrpcCall = ReturnType<grpc.ChannelInterface['createCall']>;

/** A subchannel that can carry an attempt: what the call layer needs beyond the policy's view. */
export interface AttemptSubchannel extends Subchannel {
  /** Start a grpc-js call on this connection. `deadline` is absolute (ms since epoch or `Infinity`). */
  createCall(method: string, deadline: grpc.Deadline, host?: string): GrpcCall;
}

/** Receives the events of the attempts it started. */
export interface AttemptOwner {
  onAttemptMetadata(attempt: Attempt, metadata: grpc.Metadata): void;
  onAttemptMessage(attempt: Attempt, message: Buffer): void;
  onAttemptStatus(attempt: Attempt, status: grpc.StatusObject): void;
}

/**
 * One attempt of a call (gRFC A6): one grpc-js call on one subchannel. It is the grpc-js listener of
 * that call and forwards each event, tagged with itself, to the call that owns it.
 */
export class Attempt {
  /** A read was requested from this attempt's grpc-js call and no message has answered it yet. */
  reading = false;

  constructor(
    private readonly owner: AttemptOwner,
    readonly call: GrpcCall,
    readonly subchannel: AttemptSubchannel,
    /** 1-based; transparent retries keep the number of the attempt they replace. */
    readonly number: number,
    readonly kind: AttemptKind,
  ) {}

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
