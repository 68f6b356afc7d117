import { connectivityState, status, type ChannelOptions } from '@grpc/grpc-js';
import { addressToGrpcTarget } from '../../resolver/address';
import type { Address } from '../../resolver/types';
import type { ConnectOptions, Connection, ConnectionListener, Transport, TransportStream } from '../types';
import { failedStream } from '../failed-stream';
import { annotateAttemptStatus } from './call-status';
import { buildGrpcChannelOptions, createGrpcChannel, type GrpcChannelFactory, type GrpcChannelLike } from './channel-options';
import { probeConnectFailure } from './failure-reason';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE } = connectivityState;

/**
 * The `grpc-js` transport: each connection is a grpc-js `Channel` aimed at exactly one address
 * (`ipv4:`/`ipv6:`/`unix:` target, so grpc-js neither resolves nor balances), with grpc-js's own
 * retries, service config and reconnects switched off (`buildGrpcChannelOptions`). It carries
 * grpc-js's HTTP/2 transport, TLS, keepalive, compression and call credentials unchanged, so it serves
 * any `ChannelCredentials`, including subclasses switchyard's own transport cannot drive.
 *
 * A connection attempt: the grpc-js channel is asked to connect; its first READY is `onReady`; a
 * TRANSIENT_FAILURE before that is `onClose` with the reason grpc-js gives only to a failing call
 * (`probeConnectFailure`); after READY, any other state is `onClose('connection lost')` and the grpc-js
 * channel is closed (it would otherwise reconnect by itself: switchyard's subchannel owns reconnects).
 *
 * Two grpc-js 1.14 limits remain: its pick_first starts one immediate extra connect after a failure it
 * reports (switchyard closes the channel right after, which discards that connection), and an abandoned
 * attempt to a black hole keeps its socket until the peer or the OS closes it (grpc-js has no public way
 * to abort a pending connect).
 *
 * @param createChannel test seam: creates the grpc-js channel of each connection.
 */
export function createGrpcJsTransport(createChannel: GrpcChannelFactory = createGrpcChannel): Transport {
  return {
    name: 'grpc-js',
    unsupportedCredentials: () => undefined,
    checkChannelOptions() {
      // grpc-js validates (or ignores) its own options; switchyard's overrides win (buildGrpcChannelOptions).
    },
    connect(address: Address, options: ConnectOptions, listener: ConnectionListener): Connection {
      return new GrpcJsConnection(address, options, listener, createChannel);
    },
  };
}

class GrpcJsConnection implements Connection {
  private channel: GrpcChannelLike | null = null;
  private ready = false;
  /** The grpc-js channel has left its initial IDLE state. */
  private started = false;
  private probing = false;
  private closed = false;
  /** Inside the constructor: listener calls wait for a microtask (the seam's rule for `connect()`). */
  private constructing = false;
  private readonly closedLocally = (): boolean => this.closed;

  constructor(
    address: Address,
    options: ConnectOptions,
    private readonly listener: ConnectionListener,
    createChannel: GrpcChannelFactory,
  ) {
    let channel: GrpcChannelLike;
    let current: connectivityState;
    try {
      channel = createChannel(addressToGrpcTarget(address), options.credentials,
        buildGrpcChannelOptions(options.channelOptions as ChannelOptions, options.authority));
      this.channel = channel;
      channel.getConnectivityState(true);
      // Read again: that call returns the state from before it started connecting, and a change made
      // synchronously inside it would reach no watcher.
      current = channel.getConnectivityState(false);
    } catch (error) {
      queueMicrotask(() => this.end(error instanceof Error ? error.message : String(error)));
      return;
    }
    this.constructing = true;
    this.onState(channel, current);
    this.constructing = false;
    if (this.channel === channel) this.watch(channel, current);
  }

  createStream(method: string, deadline: number, host: string | undefined): TransportStream {
    const channel = this.channel;
    if (channel === null || !this.ready) return failedStream(status.UNAVAILABLE, 'connection is closed', 'NOT_STARTED');
    return annotateAttemptStatus(channel.createCall(method, deadline, host ?? null, null, null), this.closedLocally);
  }

  close(): void {
    this.closed = true;
    const channel = this.channel;
    if (channel === null) return;
    // Cleared first: close() re-enters our watcher with SHUTDOWN, which must be ignored.
    this.channel = null;
    channel.close();
  }

  /** Follow every state change of `channel` until it is closed. */
  private watch(channel: GrpcChannelLike, current: connectivityState): void {
    channel.watchConnectivityState(current, Infinity, () => {
      if (this.channel !== channel) return;
      const next = channel.getConnectivityState(false);
      this.onState(channel, next);
      if (this.channel === channel) this.watch(channel, next);
    });
  }

  private onState(channel: GrpcChannelLike, state: connectivityState): void {
    if (this.ready) {
      if (state !== READY) this.end('connection lost');
      return;
    }
    switch (state) {
      case READY:
        this.ready = true;
        this.probing = false;
        if (this.constructing) queueMicrotask(() => this.listener.onReady());
        else this.listener.onReady();
        return;
      case CONNECTING:
        this.started = true;
        return;
      case TRANSIENT_FAILURE:
        this.started = true;
        if (!this.probing) {
          this.probing = true;
          probeConnectFailure(channel, (reason) => {
            // Ignore if READY (a grpc-js reconnect raced the probe) or close came first.
            if (this.channel === channel && !this.ready && this.probing) this.end(reason ?? 'grpc-js gave no reason');
          });
        }
        return;
      case IDLE:
        // The initial IDLE precedes the attempt; IDLE after it means grpc-js dropped the attempt.
        if (this.started) this.end('connection closed before it became ready');
        return;
      default:
        return;
    }
  }

  /** Report the end once and close the grpc-js channel. */
  private end(reason: string): void {
    if (this.closed) return;
    this.close();
    if (this.constructing) queueMicrotask(() => this.listener.onClose(reason));
    else this.listener.onClose(reason);
  }
}

/** The grpc-js transport with the real grpc-js `Channel`. */
export const grpcJsTransport: Transport = createGrpcJsTransport();

