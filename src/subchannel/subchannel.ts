import { connectivityState, type ChannelCredentials, type ChannelOptions, type Deadline } from '@grpc/grpc-js';
import { notifyStateListeners } from './state-listeners';
import type { Clock, TimerHandle } from '../clock';
import type { ConnectivityState, Subchannel, SubchannelStateListener } from '../picker/types';
import { addressKey, addressToGrpcTarget } from '../resolver/address';
import type { Address } from '../resolver/types';
import {
  createConnectionBackoff,
  resolveConnectionBackoffConfig,
  type ConnectionBackoff,
  type ConnectionBackoffConfig,
} from '../backoff';
import { invalidAddressReason } from './address-check';
import { annotateAttemptStatus } from '../transport/grpc-js/call-status';
import { createFailedCall } from '../transport/failed-stream';
import { probeConnectFailure } from '../transport/grpc-js/failure-reason';
import {
  buildGrpcChannelOptions,
  createGrpcChannel,
  type GrpcCall,
  type GrpcChannelFactory,
  type GrpcChannelLike,
} from '../transport/grpc-js/channel-options';

/** What {@link ChannelSubchannel} needs; the switchyard channel builds one per address. */
export interface ChannelSubchannelOptions {
  /** The one address this subchannel connects to. */
  readonly address: Address;
  /** The channel's credentials (insecure, TLS, or TLS combined with call credentials). */
  readonly credentials: ChannelCredentials;
  /** The user's grpc-js options (`SwitchyardChannelOptions.channelOptions`); switchyard's overrides win. */
  readonly channelOptions: ChannelOptions;
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
  /** @internal Test seam: creates the grpc-js channel of each connection attempt. */
  readonly createGrpcChannel?: GrpcChannelFactory;
}

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN } = connectivityState;

/**
 * One HTTP/2 connection to one address: a grpc-js `Channel` aimed at exactly that address
 * (`ipv4:`/`ipv6:`/`unix:` target, so grpc-js neither resolves nor balances), with the reconnect
 * backoff and connect timeout of grpc/grpc `doc/connection-backoff.md` owned here.
 *
 * States follow `doc/connectivity-semantics-and-api.md`:
 * - IDLE → `connect()` → CONNECTING: a fresh grpc-js channel per attempt.
 * - CONNECTING → READY when the HTTP/2 handshake completes (the backoff resets).
 * - CONNECTING → TRANSIENT_FAILURE when the attempt fails or is not READY within
 *   max(backoff, min connect timeout); the attempt's grpc-js channel is closed. After the backoff
 *   (counted from the attempt's start) → IDLE, and the policy calls `connect()` again.
 * - READY → IDLE when the connection is lost (GOAWAY, reset, keepalive timeout).
 * - any → SHUTDOWN on `shutdown()`.
 *
 * grpc-js never reconnects on its own underneath: a failed or lost connection's grpc-js channel is
 * closed and the next `connect()` creates a new one. Two grpc-js 1.14 limits remain: its pick_first
 * starts one immediate extra connect after a failure it reports (switchyard closes the channel right
 * after, which discards that connection), and an abandoned attempt to a black hole keeps its socket
 * until the peer or the OS closes it (grpc-js has no public way to abort a pending connect).
 *
 * Listeners are called synchronously on each transition, with `error` set for TRANSIENT_FAILURE.
 */
export class ChannelSubchannel implements Subchannel {
  readonly address: Address;
  readonly key: string;
  private state: ConnectivityState = IDLE;
  private lastError: string | undefined;
  private readonly listeners = new Set<SubchannelStateListener>();
  private readonly target: string;
  private readonly grpcOptions: ChannelOptions;
  private readonly credentials: ChannelCredentials;
  private readonly clock: Clock;
  private readonly backoff: ConnectionBackoff;
  private readonly createGrpcChannel: GrpcChannelFactory;
  /** Set when the resolver gave an address no connection can be made to (see `invalidAddressReason`). */
  private readonly invalidAddress: string | undefined;
  /** The grpc-js channel of the current attempt or connection; null when there is none. */
  private grpcChannel: GrpcChannelLike | null = null;
  /** Incremented per attempt and on shutdown, so callbacks of an older attempt are ignored. */
  private attempt = 0;
  /** The grpc-js channel of this attempt has left its initial IDLE state. */
  private attemptStarted = false;
  /** grpc-js reported TRANSIENT_FAILURE and the failure reason is being read. */
  private probing = false;
  /** Absolute time (clock ms) before which the next attempt must not start. */
  private nextAttemptAtMs = 0;
  private connectTimer: TimerHandle | undefined;
  private backoffTimer: TimerHandle | undefined;

  /** Does no I/O: the first connection attempt starts at the first `connect()`. */
  constructor(options: ChannelSubchannelOptions) {
    this.address = options.address;
    this.invalidAddress = invalidAddressReason(options.address);
    this.key = addressKey(options.address);
    this.target = this.invalidAddress === undefined ? addressToGrpcTarget(options.address) : '';
    this.grpcOptions = buildGrpcChannelOptions(options.channelOptions, options.authority);
    this.credentials = options.credentials;
    this.clock = options.clock;
    this.backoff = createConnectionBackoff(options.backoff ?? resolveConnectionBackoffConfig(), options.random);
    this.createGrpcChannel = options.createGrpcChannel ?? createGrpcChannel;
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

  /**
   * Start an attempt on this connection (internal to switchyard's call layer).
   *
   * Call the returned object's `start()` in the same tick: the connection may be closed in a later one.
   * When the subchannel is not READY (a pick raced with a disconnect) the call is a local one that ends
   * with UNAVAILABLE `subchannel <key> is not READY (<state>)` and never reaches the network.
   *
   * The status of an attempt that never reached the server application carries gRFC A6's `progress`
   * (`REFUSED`, `NOT_STARTED`), so the call layer retries it transparently, and a malformed status code
   * becomes UNKNOWN (see `annotateAttemptStatus`).
   *
   * @param method full method path, `/package.Service/Method`.
   * @param deadline absolute deadline (a `Date`, or ms since the epoch; `Infinity` for none).
   * @param host the call's `:authority` override (grpc-js `CallOptions.host`); default: the subchannel's
   *   authority. The TLS name checked stays the subchannel's (it is per connection).
   * @returns a grpc-js call object (the type `Channel#createCall` returns).
   */
  createCall(method: string, deadline: Deadline, host?: string): GrpcCall {
    const channel = this.grpcChannel;
    if (this.state !== READY || channel === null) {
      return createFailedCall(`subchannel ${this.key} is not READY (${connectivityState[this.state]})`, this.key);
    }
    return annotateAttemptStatus(channel.createCall(method, deadline, host ?? null, null, null), () => this.grpcChannel !== channel);
  }

  /** The peer of calls on this subchannel: the address key, e.g. `127.0.0.1:50051`. */
  getPeer(): string {
    return this.key;
  }

  /**
   * Close the connection (running calls finish: grpc-js closes the HTTP/2 session gracefully), clear
   * every timer, notify listeners of SHUTDOWN once and drop them. Idempotent.
   *
   * A connection Node has silently stalled (a response header field over nghttp2's 64 KiB HPACK limit:
   * GOAWAY sent, socket no longer read, no event) keeps its socket: the graceful close waits for a
   * stream Node never ends, and grpc-js 1.14 has no public force-close (docs/reliability.md,
   * limitation 3).
   */
  shutdown(): void {
    if (this.state === SHUTDOWN) return;
    this.attempt++;
    this.probing = false;
    this.clearTimers();
    this.closeGrpcChannel();
    this.setState(SHUTDOWN, undefined);
    this.listeners.clear();
  }

  private startAttempt(): void {
    const attempt = ++this.attempt;
    const timing = this.backoff.nextAttempt();
    this.nextAttemptAtMs = this.clock.now() + timing.backoffMs;
    this.attemptStarted = false;
    this.probing = false;
    this.setState(CONNECTING, undefined);
    // A listener may have shut us down.
    if (this.attempt !== attempt) return;
    this.connectTimer = this.clock.setTimeout(() => {
      this.connectTimer = undefined;
      if (this.attempt === attempt && this.state === CONNECTING) {
        this.failAttempt(`timed out after ${Math.round(timing.connectTimeoutMs)} ms`);
      }
    }, timing.connectTimeoutMs);
    if (this.invalidAddress !== undefined) {
      this.failAttempt(`failed: invalid address from the resolver: ${this.invalidAddress}`);
      return;
    }
    let channel: GrpcChannelLike;
    let current: ConnectivityState;
    try {
      channel = this.createGrpcChannel(this.target, this.credentials, this.grpcOptions);
      this.grpcChannel = channel;
      channel.getConnectivityState(true);
      // Read again: that call returns the state from before it started connecting, and a change made
      // synchronously inside it would reach no watcher.
      current = channel.getConnectivityState(false);
    } catch (error) {
      this.failAttempt(`failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.onGrpcState(channel, current);
    if (this.grpcChannel === channel) this.watch(channel, current);
  }

  /** Follow every state change of `channel` until it is closed or replaced. */
  private watch(channel: GrpcChannelLike, current: ConnectivityState): void {
    channel.watchConnectivityState(current, Infinity, () => {
      if (this.grpcChannel !== channel) return;
      const next = channel.getConnectivityState(false);
      this.onGrpcState(channel, next);
      if (this.grpcChannel === channel) this.watch(channel, next);
    });
  }

  private onGrpcState(channel: GrpcChannelLike, grpcState: ConnectivityState): void {
    if (this.state === CONNECTING) {
      switch (grpcState) {
        case READY:
          this.clearTimers();
          this.probing = false;
          this.backoff.reset();
          this.lastError = undefined;
          this.setState(READY, undefined);
          return;
        case CONNECTING:
          this.attemptStarted = true;
          return;
        case TRANSIENT_FAILURE:
          this.attemptStarted = true;
          if (!this.probing) this.readFailureReason(channel);
          return;
        case IDLE:
          // The initial IDLE precedes the attempt; IDLE after it means grpc-js dropped the attempt.
          if (this.attemptStarted) this.failAttempt('failed: connection closed before it became ready');
          return;
        default:
          return;
      }
    }
    if (this.state === READY && grpcState !== READY) {
      // Connection lost: per the connectivity semantics the subchannel goes IDLE, and the next
      // connect() opens a fresh grpc-js channel (this one would otherwise reconnect by itself).
      this.closeGrpcChannel();
      this.setState(IDLE, undefined);
    }
  }

  /** grpc-js exposes why the attempt failed only to a failing call, so read it before closing. */
  private readFailureReason(channel: GrpcChannelLike): void {
    this.probing = true;
    const attempt = this.attempt;
    probeConnectFailure(channel, (reason) => {
      // Ignore if a READY (a grpc-js reconnect raced the probe), timeout or shutdown came first.
      if (this.attempt !== attempt || this.state !== CONNECTING || !this.probing) return;
      this.failAttempt(reason === undefined ? 'failed' : `failed: ${reason}`);
    });
  }

  private failAttempt(description: string): void {
    this.probing = false;
    this.clearTimers();
    this.closeGrpcChannel();
    const error = `connect to ${this.key} ${description}`;
    this.lastError = error;
    const attempt = this.attempt;
    this.setState(TRANSIENT_FAILURE, error);
    if (this.attempt !== attempt || this.state !== TRANSIENT_FAILURE) return;
    this.backoffTimer = this.clock.setTimeout(
      () => {
        this.backoffTimer = undefined;
        if (this.attempt === attempt && this.state === TRANSIENT_FAILURE) this.setState(IDLE, undefined);
      },
      Math.max(0, this.nextAttemptAtMs - this.clock.now()),
    );
  }

  private closeGrpcChannel(): void {
    const channel = this.grpcChannel;
    if (channel === null) return;
    // Cleared first: close() re-enters our watcher with SHUTDOWN, which must be ignored.
    this.grpcChannel = null;
    channel.close();
  }

  private clearTimers(): void {
    if (this.connectTimer !== undefined) {
      this.clock.clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    }
    if (this.backoffTimer !== undefined) {
      this.clock.clearTimeout(this.backoffTimer);
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
