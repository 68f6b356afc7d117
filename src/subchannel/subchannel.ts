import { connectivityState, status, type ChannelCredentials } from '@grpc/grpc-js';
import { notifyStateListeners } from './state-listeners';
import type { Clock, TimerHandle } from '../clock';
import type { ConnectivityState, SubchannelStateListener } from '../picker/types';
import { addressKey } from '../resolver/address';
import type { Address } from '../resolver/types';
import { createConnectionBackoff, resolveConnectionBackoffConfig, type ConnectionBackoff, type ConnectionBackoffConfig } from '../backoff';
import { failedStream } from '../transport/failed-stream';
import type { Connection, ConnectionListener, Transport, TransportStream } from '../transport/types';
import { invalidAddressReason } from './address-check';
import type { StreamSubchannel } from './types';

/** What {@link ChannelSubchannel} needs; the switchyard channel builds one per address. */
export interface ChannelSubchannelOptions {
  /** The one address this subchannel connects to. */
  readonly address: Address;
  /** How connections are made (`http2`, `grpc-js`, `in-memory`). */
  readonly transport: Transport;
  /** The channel's credentials (insecure, TLS, or TLS combined with call credentials). */
  readonly credentials: ChannelCredentials;
  /** The user's grpc-js channel options, for the transport. */
  readonly channelOptions: Readonly<Record<string, unknown>>;
  /**
   * The target's `host[:port]` (the resolver's `defaultAuthority`): sent as `:authority`, and with TLS
   * the name the server certificate must match (not the IP connected to).
   */
  readonly authority: string;
  /** Drives the connect timeout and reconnect backoff timers. */
  readonly clock: Clock;
  /** Uniform numbers in [0, 1) for the backoff jitter. */
  readonly random: () => number;
  /** Reconnect backoff (`doc/connection-backoff.md`); default: the doc's parameters. */
  readonly backoff?: ConnectionBackoffConfig;
}

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN } = connectivityState;

/**
 * One connection to one address, through a {@link Transport}, with the reconnect backoff and connect
 * timeout of grpc/grpc `doc/connection-backoff.md` owned here.
 *
 * States follow `doc/connectivity-semantics-and-api.md`:
 * - IDLE → `connect()` → CONNECTING: a fresh transport connection per attempt.
 * - CONNECTING → READY when the transport says the connection is ready (the backoff resets).
 * - CONNECTING → TRANSIENT_FAILURE when the attempt fails or is not READY within
 *   max(backoff, min connect timeout) (the attempt is aborted). After the backoff (counted from the
 *   attempt's start) → IDLE, and the policy calls `connect()` again.
 * - READY → IDLE when the connection can take no new streams (GOAWAY, reset, keepalive timeout);
 *   streams in flight on it finish.
 * - any → SHUTDOWN on `shutdown()`.
 *
 * Listeners are called synchronously on each transition, with `error` set for TRANSIENT_FAILURE.
 */
export class ChannelSubchannel implements StreamSubchannel {
  readonly address: Address;
  readonly key: string;
  private state: ConnectivityState = IDLE;
  private lastError: string | undefined;
  private readonly listeners = new Set<SubchannelStateListener>();
  private readonly options: ChannelSubchannelOptions;
  private readonly backoff: ConnectionBackoff;
  /** Set when the resolver gave an address no connection can be made to (see `invalidAddressReason`). */
  private readonly invalidAddress: string | undefined;
  /** The connection of the current attempt, or the READY connection. */
  private connection: Connection | undefined;
  /** Absolute time (clock ms) before which the next attempt must not start. */
  private nextAttemptAtMs = 0;
  private connectTimer: TimerHandle | undefined;
  private backoffTimer: TimerHandle | undefined;

  /** Does no I/O: the first connection attempt starts at the first `connect()`. */
  constructor(options: ChannelSubchannelOptions) {
    this.options = options;
    this.address = options.address;
    this.invalidAddress = invalidAddressReason(options.address);
    this.key = addressKey(options.address);
    this.backoff = createConnectionBackoff(options.backoff ?? resolveConnectionBackoffConfig(), options.random);
  }

  getState(): ConnectivityState {
    return this.state;
  }

  getLastError(): string | undefined {
    return this.lastError;
  }

  /** Start a connection attempt if IDLE; a no-op in every other state (including during backoff). */
  connect(): void {
    if (this.state === IDLE) this.startAttempt();
  }

  addStateListener(listener: SubchannelStateListener): void {
    if (this.state !== SHUTDOWN) this.listeners.add(listener);
  }

  removeStateListener(listener: SubchannelStateListener): void {
    this.listeners.delete(listener);
  }

  /** See {@link StreamSubchannel.createStream}. */
  createStream(method: string, deadline: number, host?: string): TransportStream {
    const connection = this.connection;
    if (this.state !== READY || connection === undefined) {
      return failedStream(status.UNAVAILABLE, `subchannel ${this.key} is not READY (${connectivityState[this.state]})`, 'NOT_STARTED', this.key);
    }
    return connection.createStream(method, deadline, host);
  }

  /**
   * Close the connection gracefully (streams in flight finish), clear every timer, notify listeners of
   * SHUTDOWN once and drop them. Idempotent.
   */
  shutdown(): void {
    if (this.state === SHUTDOWN) return;
    this.clearTimers();
    this.closeConnection();
    this.setState(SHUTDOWN, undefined);
    this.listeners.clear();
  }

  private startAttempt(): void {
    const timing = this.backoff.nextAttempt();
    this.nextAttemptAtMs = this.options.clock.now() + timing.backoffMs;
    this.setState(CONNECTING, undefined);
    // A listener may have shut us down.
    if (this.state !== CONNECTING) return;
    if (this.invalidAddress !== undefined) {
      this.failAttempt(`failed: invalid address from the resolver: ${this.invalidAddress}`);
      return;
    }
    this.connectTimer = this.options.clock.setTimeout(() => {
      this.connectTimer = undefined;
      if (this.state === CONNECTING) this.failAttempt(`timed out after ${Math.round(timing.connectTimeoutMs)} ms`);
    }, timing.connectTimeoutMs);
    const { transport, credentials, channelOptions, authority, clock } = this.options;
    // `let`: the listener compares against it, and a transport must not call back before connect() returns.
    // eslint-disable-next-line prefer-const
    let connection: Connection | undefined;
    const listener: ConnectionListener = {
      onReady: () => {
        if (this.connection !== connection || this.state !== CONNECTING) return;
        this.clearTimers();
        this.backoff.reset();
        this.lastError = undefined;
        this.setState(READY, undefined);
      },
      onClose: (reason) => {
        if (this.connection !== connection) return;
        if (this.state === CONNECTING) {
          this.failAttempt(`failed: ${reason}`);
        } else if (this.state === READY) {
          // Per the connectivity semantics the subchannel goes IDLE; the next connect() opens a new connection.
          this.closeConnection();
          this.setState(IDLE, undefined);
        }
      },
    };
    connection = transport.connect(this.address, { authority, credentials, channelOptions, clock }, listener);
    this.connection = connection;
  }

  private failAttempt(description: string): void {
    this.clearTimers();
    this.closeConnection();
    const error = `connect to ${this.key} ${description}`;
    this.lastError = error;
    this.setState(TRANSIENT_FAILURE, error);
    if (this.state !== TRANSIENT_FAILURE) return;
    const clock = this.options.clock;
    this.backoffTimer = clock.setTimeout(() => {
      this.backoffTimer = undefined;
      if (this.state === TRANSIENT_FAILURE) this.setState(IDLE, undefined);
    }, Math.max(0, this.nextAttemptAtMs - clock.now()));
  }

  private closeConnection(): void {
    const connection = this.connection;
    this.connection = undefined;
    connection?.close();
  }

  private clearTimers(): void {
    const clock = this.options.clock;
    if (this.connectTimer !== undefined) {
      clock.clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    }
    if (this.backoffTimer !== undefined) {
      clock.clearTimeout(this.backoffTimer);
      this.backoffTimer = undefined;
    }
  }

  private setState(next: ConnectivityState, error: string | undefined): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    notifyStateListeners(this.listeners, this, previous, next, error);
  }
}
