import type { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { ConnectivityState } from '../picker/types';
import type { ChannelStats, SwitchyardEvents } from '../call/events';
import type { ParentCall } from '../call/inheritance';
import type { ChannelSnapshot } from '../telemetry/snapshot';
import { InternalChannel } from './internal-channel';
import type { SwitchyardChannelOptions } from './options';

type GrpcCall = ReturnType<grpc.ChannelInterface['createCall']>;
type ChannelzRef = ReturnType<grpc.ChannelInterface['getChannelzRef']>;

/**
 * A grpc-js channel (it implements grpc-js's public `ChannelInterface`, the type `channelOverride`
 * takes) that resolves its target itself, balances calls across endpoints with a load-balancing policy
 * and applies the service config (gRFC A6 retries, hedging, throttling, timeouts) to every call.
 * Create it with {@link createChannel}.
 *
 * This class is a facade: the work happens in an internal channel that is not part of the API.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- typed as grpc.Channel too: see the interface below
export class SwitchyardChannel implements grpc.ChannelInterface {
  readonly #channel: InternalChannel;

  /**
   * Prefer {@link createChannel}; same parameters.
   * @throws ConfigError for a malformed target, an unknown scheme, an invalid option or an invalid
   *   service config.
   */
  constructor(target: string, credentials: grpc.ChannelCredentials, options?: SwitchyardChannelOptions) {
    this.#channel = new InternalChannel(target, credentials, options);
  }

  /**
   * Visibility: `attempt`, `backoff`, `throttled`, `commit`, `connectivity`, `resolution` and `error`
   * events (see {@link SwitchyardEvents}). Payloads are built only when someone listens.
   */
  get events(): EventEmitter<SwitchyardEvents> {
    return this.#channel.events;
  }

  /**
   * Close every connection, timer and resolver this channel owns. Calls still waiting (for the first
   * resolution, a pick, a wait-for-ready connection or a retry backoff) end at once with UNAVAILABLE
   * `Channel closed`; calls in flight finish on their connections, and are no longer retried or hedged.
   * Safe from anywhere, including inside an `events` listener. Idempotent; never throws.
   */
  close(): void {
    this.#channel.close();
  }

  /** The target string passed to {@link createChannel}. */
  getTarget(): string {
    return this.#channel.target;
  }

  /** The aggregated connectivity state; with `tryToConnect`, an IDLE channel starts resolving and connecting. */
  getConnectivityState(tryToConnect: boolean): ConnectivityState {
    return this.#channel.getConnectivityState(tryToConnect);
  }

  /**
   * Call `callback` once the state differs from `currentState`, or with an error at `deadline`
   * (absolute: a `Date` or ms since the epoch). Same contract as grpc-js.
   * @throws Error if the channel is shut down.
   */
  watchConnectivityState(currentState: ConnectivityState, deadline: Date | number, callback: (error?: Error) => void): void {
    this.#channel.watchConnectivityState(currentState, deadline, callback);
  }

  /** A channelz reference (switchyard does not register with channelz; the id is unique per process). */
  getChannelzRef(): ChannelzRef {
    return this.#channel.channelzRef as unknown as ChannelzRef;
  }

  /**
   * Create a call; used by grpc-js's `Client`.
   * @param method the full method path, `/package.Service/Method`.
   * @param deadline absolute: a `Date` or ms since the epoch, `Infinity` for none.
   * @param host an `:authority` override for this call, or null for the channel's.
   * @param parentCall a server call whose deadline and cancellation propagate per `propagateFlags`
   *   (grpc-js `propagate` bits; default `propagate.DEFAULTS`).
   * @throws Error if the channel is shut down.
   */
  createCall(
    method: string,
    deadline: grpc.Deadline,
    host: string | null | undefined,
    parentCall: ParentCall,
    propagateFlags: number | null | undefined,
  ): GrpcCall {
    return this.#channel.createCall(method, deadline, host, parentCall, propagateFlags);
  }

  /** A snapshot of this channel's counters (see {@link ChannelStats}). O(1), allocates one object. */
  stats(): ChannelStats {
    return this.#channel.stats();
  }

  /**
   * What this channel is doing now, in the spirit of channelz (gRFC A14): target, connectivity state,
   * the last resolver result and error, the service config in use and where it came from, the root
   * policy, every subchannel (address, state, last failure, calls started/succeeded/failed/in flight)
   * and the retry throttle. Plain JSON-safe data, built on demand in O(endpoints + subchannels); times
   * are ms since the epoch on the channel's clock.
   */
  snapshot(): ChannelSnapshot {
    return this.#channel.snapshot();
  }
}

/**
 * Declaration merging: a `SwitchyardChannel` is also typed as grpc-js's exported `Channel` class, so it
 * can be passed where a library's parameter is typed that way (nice-grpc's `createClient`, grpc-js's
 * `Client` option types) without a cast. It is not an instance of that class at run time; such
 * libraries hand it to grpc-js as `channelOverride`, which takes any `ChannelInterface`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface SwitchyardChannel extends grpc.Channel {}

/**
 * Create a switchyard channel for `target`, to pass to any grpc-js client as
 * `new Client(target, credentials, { channelOverride: channel })`.
 *
 * @param target a gRPC target per `doc/naming.md`: `dns:///host:port` (the default scheme, so
 *   `host:port` works too), `dns://DNS_ADDR:PORT/host:port`, `ipv4:a:p,b:p`, `ipv6:[a]:p`, `unix:/path`,
 *   or any scheme registered with `registerResolver`.
 * @param credentials grpc-js channel credentials used for every connection; TLS verifies the server
 *   against the target's host name, not the resolved address.
 * @param options see {@link SwitchyardChannelOptions}.
 * @throws ConfigError for a malformed target, an unknown scheme, an invalid option or an invalid
 *   service config; the message names the field path and the rule broken.
 */
export function createChannel(target: string, credentials: grpc.ChannelCredentials, options?: SwitchyardChannelOptions): SwitchyardChannel {
  return new SwitchyardChannel(target, credentials, options);
}
