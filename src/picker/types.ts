import type { ChannelInterface, Metadata, StatusObject, connectivityState, status } from '@grpc/grpc-js';
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

/** The stream of one attempt: the grpc-js call object shape (see {@link Subchannel.createStream}). */
export type SubchannelStream = ReturnType<ChannelInterface['createCall']>;

/**
 * One connection to one address, as a load-balancing policy sees it. Connectivity states follow
 * gRPC's `doc/connectivity-semantics-and-api.md`: a lost connection goes to IDLE, a failed connect
 * attempt to TRANSIENT_FAILURE (and back to IDLE when its reconnect backoff ends).
 *
 * A health signal (client-side health checking, gRFC A17; an ejection by `outlier_detection`, gRFC
 * A50) shows as the same object going from READY to TRANSIENT_FAILURE (or CONNECTING while a check
 * restarts) and back, while its connection stays up; a lost connection always goes through IDLE.
 * Policies cannot tell a checked subchannel from a plain one otherwise.
 *
 * Threading contract: listeners run synchronously inside whatever caused the change, which may be a
 * policy's own `connect()` call (a failure can be reported from inside it). A listener may call any
 * method of any subchannel and any method of its {@link ChannelControlHelper}.
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
  /**
   * Start a stream on this subchannel's current connection: how the channel sends an attempt, and how a
   * policy opens a per-connection stream of its own (ORCA's out-of-band `StreamCoreMetrics`, gRFC
   * A51). When the subchannel is not READY the call fails at once with UNAVAILABLE. The channel's
   * subchannels always have it; a policy that wraps subchannels must forward it to the wrapped one,
   * since the channel sends attempts through the picked object.
   * @param method full method path, `/package.Service/Method`.
   * @param deadline absolute ms since the epoch, `Infinity` for none.
   * @param host the call's `:authority` override, if any.
   */
  createStream?(method: string, deadline: number, host?: string): SubchannelStream;
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
 * Chooses a subchannel for each attempt (grpc-go `balancer.Picker`).
 *
 * Contract:
 * - A pick never blocks, never does I/O, never scans every endpoint and allocates nothing: results are
 *   preallocated per endpoint; per-pick state is a counter or load figures of the endpoints.
 * - A picker is a snapshot of what the policy decided when it published it; only what the policy
 *   declares as live per-endpoint load (in-flight counts, latency estimates, weights swapped by the
 *   policy's own timer) may change under it.
 * - A pick must not call the helper or the policy synchronously: work a pick asks for (leaving IDLE,
 *   connecting an endpoint) runs in a microtask, so the channel never sees `updateState` from inside
 *   its own pick.
 */
export interface Picker {
  pick(args: PickArgs): PickResult;
}

/**
 * The channel's side of a load-balancing policy (grpc-go `balancer.ClientConn`).
 *
 * Contract (what may be called when):
 * - Every method may be called from inside any {@link LoadBalancingPolicy} method and from inside a
 *   subchannel state listener; none of them calls back into the policy synchronously.
 * - `updateState` may be called re-entrantly (a child policy publishing from inside its parent's
 *   `updateEndpoints`); the last call wins. A parent that wants one publication per update defers its
 *   own (as `EndpointList` does).
 * - After the policy's `close()`, nothing may be called on it; the channel ignores calls from a
 *   replaced policy instance.
 */
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
  /**
   * Where the policy records its gRFC A78 metrics; present only while the channel records metrics
   * (`undefined` otherwise, so a policy that checks it records nothing and allocates nothing). A
   * parent policy passes its own helper's on to its children's helpers.
   */
  readonly metrics?: LbMetricsRecorder;
}

/** The counters of gRFC A78 (units and meaning there) a built-in policy records. */
export type LbCounterName =
  | 'grpc.lb.pick_first.disconnections'
  | 'grpc.lb.pick_first.connection_attempts_succeeded'
  | 'grpc.lb.pick_first.connection_attempts_failed'
  | 'grpc.lb.wrr.rr_fallback'
  | 'grpc.lb.wrr.endpoint_weight_not_yet_usable'
  | 'grpc.lb.wrr.endpoint_weight_stale';

/**
 * A policy's view of the channel's metrics (gRFC A79's metrics recorder), bound to the channel's
 * `grpc.target`. Calls are O(1) and never throw.
 */
export interface LbMetricsRecorder {
  /** Add `value` to the counter `name`. */
  addCount(name: LbCounterName, value: number): void;
  /** Record one endpoint's weight in gRFC A78's `grpc.lb.wrr.endpoint_weights` histogram (0: no usable weight). */
  recordEndpointWeight(weight: number): void;
}

/**
 * A running load-balancing policy instance, owned by one channel or by a parent policy
 * (grpc-go `balancer.Balancer`).
 *
 * Contract: the owner calls these methods one at a time, never from inside a pick, and never after
 * `close()`. A parent may call them from inside its own methods and from inside a child's
 * `helper.updateState` only if it tolerates the child publishing again inside that call; the built-in
 * parents defer such calls to the end of the outermost one instead. A policy may publish
 * (`helper.updateState`) synchronously from inside any of these methods.
 */
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
