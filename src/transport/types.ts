import type { ChannelCredentials, ChannelInterface, StatusObject } from '@grpc/grpc-js';
import type { Clock } from '../clock';
import type { Address } from '../resolver/types';

/**
 * The transport seam (docs/architecture.md, design card "Transport interface"): how a subchannel opens
 * one connection to one address and starts streams on it. Implementations:
 * - `http2`   — gRPC over `node:http2` (grpc/grpc `doc/PROTOCOL-HTTP2.md`), the default;
 * - `grpc-js` — a grpc-js `Channel` pinned to the address, for credentials switchyard cannot drive;
 * - `in-memory` — scripted backends in virtual time (`switchyard/testing`).
 *
 * The call engine, balancers and subchannels run the same code over each.
 */

/** grpc-js's call object shape (what `Channel#createCall` returns): the stream of one attempt. */
export type TransportStream = ReturnType<ChannelInterface['createCall']>;

/**
 * How far a failed attempt got (gRFC A6 "Transparent Retries"), carried as `progress` on the status an
 * attempt's listener receives. Absent: the server application may have seen it (PROCESSED).
 * - `NOT_STARTED`: nothing left the client (no stream was opened, or the connection was already draining).
 * - `REFUSED`: the server's HTTP/2 layer refused it (RST_STREAM REFUSED_STREAM, or a stream id above a
 *   GOAWAY's last-stream-id): never reached the application.
 */
export type AttemptProgress = 'NOT_STARTED' | 'REFUSED';

/** The status of an attempt, as a transport reports it. */
export interface AttemptStatus extends StatusObject {
  progress?: AttemptProgress;
}

/** What the subchannel passes to {@link Transport.connect}. */
export interface ConnectOptions {
  /** `host[:port]` of the target: the default `:authority`, and with TLS the name the certificate must match. */
  readonly authority: string;
  /** The channel's credentials (insecure, TLS, TLS + call credentials). */
  readonly credentials: ChannelCredentials;
  /** The user's grpc-js channel options (`grpc.keepalive_time_ms`, `grpc.default_compression_algorithm`, ...). */
  readonly channelOptions: Readonly<Record<string, unknown>>;
  /** For every timer the connection owns (keepalive). */
  readonly clock: Clock;
}

/**
 * Receives the life events of one connection. Each method is called at most once, `onReady` before
 * `onClose`, and never synchronously from inside {@link Transport.connect}.
 */
export interface ConnectionListener {
  /** The connection can carry streams (HTTP/2: the server's SETTINGS frame arrived). */
  onReady(): void;
  /**
   * The connection can take no new streams: the connect attempt failed, or the ready connection got a
   * GOAWAY, lost its socket or missed a keepalive ACK. Streams in flight may still finish (after GOAWAY).
   * Not called after `close()`.
   * @param reason a human-readable cause, e.g. `connect ECONNREFUSED 127.0.0.1:50051`.
   */
  onClose(reason: string): void;
}

/** One connection (attempt) to one address. */
export interface Connection {
  /**
   * Start the stream of one attempt. Call only after `onReady`; call the stream's `start()` in the same
   * tick. Never throws: a stream that cannot be opened ends with UNAVAILABLE and `progress: 'NOT_STARTED'`.
   * @param method full method path, `/package.Service/Method`.
   * @param deadline absolute ms since the epoch, `Infinity` for none (sent as `grpc-timeout`; the call
   *   layer owns the timer).
   * @param host the call's `:authority` override (grpc-js `CallOptions.host`), or undefined.
   */
  createStream(method: string, deadline: number, host: string | undefined): TransportStream;
  /**
   * Graceful close: no new streams, streams in flight finish; before ready, abort the connect attempt
   * (the socket is destroyed). No listener call afterwards. Idempotent.
   */
  close(): void;
}

/** A way to reach an address. */
export interface Transport {
  /** `http2`, `grpc-js` or `in-memory`: named in logs and `warning` events. */
  readonly name: string;
  /**
   * Why this transport cannot drive these credentials (the channel then falls back to the `grpc-js`
   * transport, with a `warning` event naming the reason), or undefined when it can.
   */
  unsupportedCredentials(credentials: ChannelCredentials): string | undefined;
  /**
   * Check the grpc-js channel options this transport would run with.
   * @throws ConfigError naming `options.channelOptions["<key>"]` and the rule broken, for an option this
   *   transport does not implement or a value out of range: an option is never silently ignored.
   */
  checkChannelOptions(channelOptions: Readonly<Record<string, unknown>>): void;
  /**
   * Start connecting to `address`. Never throws: failures arrive as `listener.onClose`.
   */
  connect(address: Address, options: ConnectOptions, listener: ConnectionListener): Connection;
}

