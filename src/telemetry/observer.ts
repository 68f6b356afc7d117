import type { Metadata, status } from '@grpc/grpc-js';

/** Why an attempt was started (gRFC A6 vocabulary; the call layer's `AttemptKind`). */
export type ObservedAttemptKind = 'initial' | 'retry' | 'hedge' | 'transparent';

/**
 * What the call engine tells telemetry (gRFC A66's `CallTracer`). A channel has one only while it
 * records something (metrics, spans or the debug log); without one the call engine reads one
 * `undefined` field per call and does nothing else.
 */
export interface CallObserver {
  /** A call started (before its first pick). */
  startCall(method: string): CallTrace;
}

/** One call's telemetry (gRFC A66 `CallTracer`, A72 call span). */
export interface CallTrace {
  /**
   * An attempt is starting on `endpoint` (an address key, `''` for a failed pick).
   * @param previousAttempts attempts before this one (gRFC A72 `previous-rpc-attempts`).
   * @param metadata the metadata the attempt will send; `owned`: it is the attempt's own copy.
   */
  startAttempt(kind: ObservedAttemptKind, previousAttempts: number, endpoint: string, metadata: Metadata, owned: boolean): AttemptTrace;
  /** The call committed to an attempt (gRFC A6), for the debug log. */
  commit(attempt: number, endpoint: string, reason: string): void;
  /** The call ended with `code` (once). */
  end(code: status, details: string): void;
}

/** One attempt's telemetry (gRFC A66 `CallAttemptTracer`, A72 attempt span). */
export interface AttemptTrace {
  /** The metadata to send: the one given to `startAttempt`, or a copy carrying trace context (A72). */
  readonly metadata: Metadata;
  /** A request message of `bytes` serialized bytes went to the transport. */
  sent(bytes: number): void;
  /** A response message of `bytes` serialized bytes arrived. */
  received(bytes: number): void;
  /** The attempt ended with `code` (once). */
  end(code: status, details: string): void;
}
