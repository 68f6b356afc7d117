import type { status } from '@grpc/grpc-js';
import type { ConnectivityState } from '../picker/types';

/** Why an attempt was started (gRFC A6 vocabulary). */
export type AttemptKind = 'initial' | 'retry' | 'hedge' | 'transparent';

/** Emitted as `attempt` when an attempt ends. */
export interface AttemptEvent {
  /** Full method path, `/package.Service/Method`. */
  readonly method: string;
  /** 1 for the original attempt; transparent retries do not advance it (gRFC A6). */
  readonly attempt: number;
  readonly kind: AttemptKind;
  /** The endpoint address the attempt went to, e.g. `127.0.0.1:50051`; `''` when its pick failed. */
  readonly endpoint: string;
  readonly code: status;
  readonly details: string;
  /**
   * Whether the call committed to this attempt when it ended. A hedged call that ends with its last
   * non-fatal failure reports `false` here; its `commit` event names the attempt.
   */
  readonly committed: boolean;
}

/** Emitted as `backoff` when a retry is scheduled. */
export interface BackoffEvent {
  readonly method: string;
  /** The attempt number the retry will have. */
  readonly nextAttempt: number;
  /** Delay before the retry, in ms. */
  readonly delayMs: number;
  /** True when the delay came from the server's `grpc-retry-pushback-ms` trailer. */
  readonly pushback: boolean;
}

/** Emitted as `throttled` when retry throttling (gRFC A6) refuses a retry or hedge. */
export interface ThrottledEvent {
  readonly method: string;
  readonly kind: 'retry' | 'hedge';
  /** Tokens in the bucket when the decision was made. */
  readonly tokens: number;
}

/** Why a call committed (gRFC A6): after commit it is never retried. */
export type CommitReason = 'headers' | 'message' | 'status' | 'buffer-limit';

/** Emitted as `commit` when a call commits to one attempt. */
export interface CommitEvent {
  readonly method: string;
  readonly attempt: number;
  readonly endpoint: string;
  readonly reason: CommitReason;
}

/** Emitted as `connectivity` on every channel connectivity state change. */
export interface ConnectivityEvent {
  readonly previous: ConnectivityState;
  readonly state: ConnectivityState;
  /** The reason, for TRANSIENT_FAILURE. */
  readonly error?: string;
}

/** Emitted as `resolution` when the resolver reports a new endpoint list. */
export interface ResolutionEvent {
  /** The endpoint addresses, as `host:port` keys. */
  readonly addresses: readonly string[];
}

/**
 * Emitted as `warning` for configuration that changes nothing or not what it says: a service config
 * field switchyard ignores (unknown, misspelt, or defined by gRPC but not implemented), a method config
 * naming no method; or a transport fallback. With the channel option `strict: true` a service config
 * with such fields is rejected instead (the application's with a `ConfigError`, a resolver's per gRFC A21).
 */
export interface WarningEvent {
  /** What the warning is about. */
  readonly kind: 'service-config' | 'transport';
  /** The JSON path (`methodConfig[0].retrypolicy`) or option name, where there is one. */
  readonly path?: string;
  /** What is wrong and its effect. */
  readonly message: string;
}

/** Event names and payloads of a channel's `events` emitter. */
export interface SwitchyardEvents {
  attempt: [AttemptEvent];
  backoff: [BackoffEvent];
  throttled: [ThrottledEvent];
  commit: [CommitEvent];
  connectivity: [ConnectivityEvent];
  resolution: [ResolutionEvent];
  /** A resolver failure or a rejected service config update; the last good state stays in use. */
  error: [Error];
  /** Something that works but not as written (see {@link WarningEvent}). */
  warning: [WarningEvent];
}

/**
 * Counters of one channel since it was created: a plain snapshot, cheap to take.
 * All are counts except `tokens`.
 */
export interface ChannelStats {
  /** Calls started. */
  readonly calls: number;
  /** Calls that ended OK. */
  readonly succeeded: number;
  /** Calls that ended with any other status. */
  readonly failed: number;
  /** Attempts started, of every kind. */
  readonly attempts: number;
  /** Retries started (gRFC A6 retry policy). */
  readonly retries: number;
  /** Hedged attempts started beyond the first. */
  readonly hedges: number;
  /** Transparent retries (attempts that never reached the server application). */
  readonly transparentRetries: number;
  /** Retries and hedges refused by retry throttling. */
  readonly throttled: number;
  /** Calls that ended DEADLINE_EXCEEDED. */
  readonly deadlineExceeded: number;
  /** Retry-throttling tokens now, or `undefined` without `retryThrottling`. */
  readonly tokens: number | undefined;
}
