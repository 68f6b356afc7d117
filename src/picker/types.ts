import type { Metadata, StatusObject, connectivityState, status } from '@grpc/grpc-js';
import type { Clock } from '../clock';
import type { Address, Endpoint } from '../resolver/types';

/** grpc-js's connectivity state enum (IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN). */
export type ConnectivityState = connectivityState;

/** Called on every connectivity state change of a subchannel. `error` is set for TRANSIENT_FAILURE. */
export type SubchannelStateListener = (
  subchannel: Subchannel,
  previous: ConnectivityState,
  next: ConnectivityState,
  error: string | undefined,
) => void;

/**
 * One connection to one address, as a load-balancing policy sees it. Connectivity states follow
 * gRPC's `doc/connectivity-semantics-and-api.md`: a lost connection goes to IDLE, a failed connect
 * attempt to TRANSIENT_FAILURE (and back to IDLE when its reconnect backoff ends).
 */
export interface Subchannel {
  readonly address: Address;
  /** A stable string for the address (`127.0.0.1:50051`, `[::1]:50051`, `unix:/tmp/s`). */
  readonly key: string;
  getState(): ConnectivityState;
  /** The reason of the last failed connect attempt, if any. */
  getLastError(): string | undefined;
  /** Start connecting if IDLE; no-op in any other state. */
  connect(): void;
  addStateListener(listener: SubchannelStateListener): void;
  removeStateListener(listener: SubchannelStateListener): void;
}

/** What a pick knows about the attempt it picks for. */
export interface PickArgs {
  /** The full method path, `/package.Service/Method`. */
  readonly method: string;
  readonly metadata: Metadata;
  /**
   * Subchannels earlier attempts of the same call used (hedging, retries). A picker should prefer
   * a different one when it can do so in O(1); it may ignore this.
   */
  readonly previous: readonly Subchannel[] | undefined;
}

/**
 * Load feedback for the policy that made a pick (gRFC A48 in-flight counts, A50 call results, A51 per-call
 * ORCA reports, latency for peak EWMA). Called exactly once for every pick that returned the result
 * carrying it: when the attempt started with that pick ends — with its status code, its trailing
 * metadata (the Trailers-Only metadata for an error without a response) and the ms from the pick to the
 * end — or at once with `UNAVAILABLE`, `undefined`, `0` when the call could not use the pick (the
 * subchannel was no longer READY, or the call ended first). Must not throw; must not allocate per call
 * where avoidable (build it once per endpoint, with the preallocated `PickComplete`).
 */
export type AttemptEndedHook = (code: status, trailers: Metadata | undefined, elapsedMs: number) => void;

/** Send the attempt to this subchannel. Pickers preallocate these so a pick allocates nothing. */
export interface PickComplete {
  readonly type: 'complete';
  readonly subchannel: Subchannel;
  /** See {@link AttemptEndedHook}. */
  readonly onAttemptEnded?: AttemptEndedHook;
}
/** No subchannel is usable yet: wait for the next picker. */
export interface PickQueue {
  readonly type: 'queue';
}
/** Fail the attempt with this status, unless the call is wait-for-ready (then it queues). */
export interface PickFail {
  readonly type: 'fail';
  readonly status: Pick<StatusObject, 'code' | 'details'>;
}
/** Fail the call with this status even if wait-for-ready; never retried (gRFC A6). */
export interface PickDrop {
  readonly type: 'drop';
  readonly status: Pick<StatusObject, 'code' | 'details'>;
}
export type PickResult = PickComplete | PickQueue | PickFail | PickDrop;

/** The shared "queue" pick result. */
export const PICK_QUEUE: PickQueue = Object.freeze({ type: 'queue' });

/**
 * An immutable snapshot that chooses a subchannel for each attempt. A pick never blocks, never does
 * I/O and never scans every endpoint; per-pick state is at most a counter (grpc-go `balancer.Picker`).
 */
export interface Picker {
  pick(args: PickArgs): PickResult;
}

/** The channel's side of a load-balancing policy. */
export interface ChannelControlHelper {
  /**
   * A subchannel for this address. The channel shares one connection per address across policies
   * and resolver updates, so an address kept across an update keeps its connection. Every
   * subchannel obtained here must be given back with {@link ChannelControlHelper.releaseSubchannel}.
   */
  createSubchannel(address: Address): Subchannel;
  /** Give a subchannel back; its connection closes when nothing else holds it. */
  releaseSubchannel(subchannel: Subchannel): void;
  /** Publish the policy's aggregated connectivity state and a new picker. `error` explains TRANSIENT_FAILURE. */
  updateState(state: ConnectivityState, picker: Picker, error?: string): void;
  /** Ask the resolver for a fresh endpoint list (rate-limited by the resolver). */
  requestReresolution(): void;
  /** The clock every policy timer must use. */
  readonly clock: Clock;
  /** Uniform random numbers in [0, 1): injectable for tests. */
  readonly random: () => number;
  /** Happy Eyeballs connection attempt delay in ms (gRFC A61), already clamped to [100, 2000]. */
  readonly connectionAttemptDelayMs: number;
}

/** A running load-balancing policy instance, owned by one channel. */
export interface LoadBalancingPolicy {
  /** A new endpoint list from the resolver, with this policy's parsed config. */
  updateEndpoints(endpoints: readonly Endpoint[], config: unknown): void;
  /** The resolver failed. A policy with no endpoints goes TRANSIENT_FAILURE with this error. */
  resolverError(error: string): void;
  /** Start connecting if idle (a call arrived, or `getConnectivityState(true)`). */
  exitIdle(): void;
  /** Release every subchannel and timer. */
  close(): void;
}

/**
 * A load-balancing policy implementation, registered by name with `registerLoadBalancingPolicy`
 * and selected by the service config's `loadBalancingConfig` (gRFC A24).
 */
export interface LoadBalancingPolicyFactory<Config = unknown> {
  /** The policy name used in `loadBalancingConfig`, e.g. `round_robin`. */
  readonly name: string;
  /**
   * Validate and normalize the policy's JSON config (the value under the policy name).
   * @param path the JSON path of that value, for error messages (e.g. `loadBalancingConfig[0].pick_first`).
   * @throws ConfigError naming `path` (or a field under it) and the rule broken.
   */
  parseConfig(json: unknown, path: string): Config;
  create(helper: ChannelControlHelper): LoadBalancingPolicy;
}
