import { connectivityState } from '@grpc/grpc-js';
import { expectObject } from '../json/path';
import { addressKey } from '../resolver/address';
import type { Address, Endpoint } from '../resolver/types';
import { flattenDistinctAddresses } from './address-list';
import { aggregateConnectivityState, countState, effectiveChildState, type MutableConnectivityCounts } from './aggregate';
import { NO_ADDRESSES_ERROR, QUEUE_PICKER, allFailedDetails, completePick, failPicker } from './pickers';
import { roundRobinPicker } from './round-robin-picker';
import type {
  ChannelControlHelper,
  ConnectivityState,
  LoadBalancingPolicy,
  LoadBalancingPolicyFactory,
  PickComplete,
  Picker,
  Subchannel,
  SubchannelStateListener,
} from './types';

/** `round_robin` has no options; its config is an empty object. */
export type RoundRobinConfig = Readonly<Record<string, never>>;

/**
 * Validate `round_robin`'s config: any JSON object (its fields are ignored; gRPC defines none).
 * @param json the value under `round_robin` in a `loadBalancingConfig` entry.
 * @param path its JSON path, e.g. `loadBalancingConfig[0].round_robin`.
 * @throws ConfigError at `path` if `json` is not a JSON object (null and arrays included).
 */
export function parseRoundRobinConfig(json: unknown, path: string): RoundRobinConfig {
  expectObject(json, path);
  return Object.freeze({});
}

/** One address round_robin balances over. */
interface Child {
  readonly subchannel: Subchannel;
  readonly key: string;
  readonly listener: SubchannelStateListener;
  /** Preallocated, so pickers built at different times return the same object for this subchannel. */
  readonly result: PickComplete;
  state: ConnectivityState;
  /** Reported TRANSIENT_FAILURE since it was last READY: counts as failed (sticky per child). */
  failed: boolean;
  released: boolean;
}

/** The error round_robin reports for an empty endpoint list: the shared {@link NO_ADDRESSES_ERROR}. */
export { NO_ADDRESSES_ERROR as RR_NO_ADDRESSES_ERROR } from './pickers';

/**
 * Create a `round_robin` policy instance (grpc `doc/load-balancing.md`).
 *
 * - One subchannel per distinct address over all endpoints: an endpoint with several addresses is
 *   flattened, each address getting its own share (gRFC A61's pick_first-per-endpoint delegation is
 *   not implemented yet). Subchannels whose address stays across updates are kept, and an update
 *   that neither adds nor removes an address keeps the current picker (no new random start).
 * - Connects to every address and reconnects each one as soon as it reports IDLE (after a lost
 *   connection or the end of a reconnect backoff).
 * - State: {@link aggregateConnectivityState} over per-child sticky states (gRFC A48/A58 reading).
 *   READY: a {@link roundRobinPicker} over the READY subchannels, random start (`helper.random`),
 *   rebuilt only when the READY set changes. CONNECTING: picks queue. TRANSIENT_FAILURE: picks fail
 *   UNAVAILABLE naming the last connection error.
 * - Re-resolution is requested when a child reports TRANSIENT_FAILURE or a READY child is lost.
 * - Empty list: TRANSIENT_FAILURE {@link NO_ADDRESSES_ERROR}; resolver error with no addresses:
 *   TRANSIENT_FAILURE with that error; otherwise resolver errors are ignored.
 */
export function createRoundRobinPolicy(helper: ChannelControlHelper): LoadBalancingPolicy {
  let closed = false;
  let children: Child[] = [];
  const byKey = new Map<string, Child>();
  let state: ConnectivityState | undefined;
  let publishedDetails: string | undefined;
  let lastError: string | undefined;
  let readySetChanged = false;

  function publish(next: ConnectivityState, picker: Picker, error?: string): void {
    state = next;
    helper.updateState(next, picker, error);
  }

  function acquire(address: Address, key: string): Child {
    const subchannel = helper.createSubchannel(address);
    const initial = subchannel.getState();
    const child: Child = {
      subchannel,
      key,
      result: completePick(subchannel),
      state: initial,
      failed: initial === connectivityState.TRANSIENT_FAILURE,
      released: false,
      listener: (_sc, _previous, next, error) => onChildState(child, next, error),
    };
    subchannel.addStateListener(child.listener);
    return child;
  }

  function release(child: Child): void {
    if (child.released) return;
    child.released = true;
    byKey.delete(child.key);
    child.subchannel.removeStateListener(child.listener);
    helper.releaseSubchannel(child.subchannel);
  }

  /** Recompute the aggregate state; publish when it, the READY set or the failure message changed. */
  function refresh(): void {
    const counts: MutableConnectivityCounts = { ready: 0, connecting: 0, idle: 0, transientFailure: 0 };
    for (const child of children) countState(counts, effectiveChildState(child.state, child.failed));
    const next = aggregateConnectivityState(counts);
    const readyChanged = readySetChanged;
    readySetChanged = false;
    if (next === connectivityState.READY) {
      if (state === next && !readyChanged) return;
      const ready: PickComplete[] = [];
      for (const child of children) if (child.state === connectivityState.READY) ready.push(child.result);
      const start = Math.min(ready.length - 1, Math.floor(helper.random() * ready.length));
      publish(next, roundRobinPicker(ready, start));
    } else if (next === connectivityState.CONNECTING) {
      if (state !== next) publish(next, QUEUE_PICKER);
    } else {
      const details = allFailedDetails(lastError);
      if (state === next && details === publishedDetails) return;
      publishedDetails = details;
      publish(next, failPicker(details), lastError);
    }
  }

  function onChildState(child: Child, next: ConnectivityState, error: string | undefined): void {
    if (closed || child.released) return;
    const wasReady = child.state === connectivityState.READY;
    child.state = next;
    if (next === connectivityState.READY) {
      child.failed = false;
    } else if (next === connectivityState.TRANSIENT_FAILURE || next === connectivityState.SHUTDOWN) {
      child.failed = true;
      lastError = error ?? child.subchannel.getLastError() ?? lastError;
    }
    if (wasReady !== (next === connectivityState.READY)) readySetChanged = true;
    refresh();
    if (next === connectivityState.TRANSIENT_FAILURE || (wasReady && next !== connectivityState.READY)) {
      helper.requestReresolution();
    }
    // Last: connect() may report CONNECTING synchronously, re-entering this function.
    if (next === connectivityState.IDLE && !closed && !child.released) child.subchannel.connect();
  }

  function connectIdle(candidates: readonly Child[]): void {
    for (const child of candidates) {
      if (closed) return;
      if (!child.released && child.subchannel.getState() === connectivityState.IDLE) child.subchannel.connect();
    }
  }

  return {
    updateEndpoints(endpoints: readonly Endpoint[]): void {
      if (closed) return;
      const next: Child[] = [];
      const fresh: Child[] = [];
      for (const address of flattenDistinctAddresses(endpoints)) {
        const key = addressKey(address);
        let child = byKey.get(key);
        if (child === undefined) {
          child = acquire(address, key);
          byKey.set(key, child);
          fresh.push(child);
        }
        next.push(child);
      }
      const previous = children;
      children = next;
      const kept = new Set(next);
      let removed = 0;
      for (const child of previous) {
        if (kept.has(child)) continue;
        removed++;
        release(child);
      }
      // An unchanged list (a periodic DNS refresh, a static resolver answering a re-resolution
      // request) keeps the current picker and its position, so the rotation stays exact.
      if (fresh.length > 0 || removed > 0) readySetChanged = true;
      if (children.length === 0) {
        lastError = NO_ADDRESSES_ERROR;
        publishedDetails = NO_ADDRESSES_ERROR;
        publish(connectivityState.TRANSIENT_FAILURE, failPicker(NO_ADDRESSES_ERROR), NO_ADDRESSES_ERROR);
        return;
      }
      refresh();
      connectIdle(fresh);
    },

    resolverError(error: string): void {
      if (closed || children.length > 0) return;
      lastError = error;
      publishedDetails = error;
      publish(connectivityState.TRANSIENT_FAILURE, failPicker(error), error);
    },

    exitIdle(): void {
      if (!closed) connectIdle(children.slice());
    },

    close(): void {
      if (closed) return;
      closed = true;
      const held = children;
      children = [];
      for (const child of held) release(child);
    },
  };
}

/** The `round_robin` policy factory (grpc `doc/load-balancing.md`). Registered by `src/picker/index.ts`. */
export const roundRobinPolicy: LoadBalancingPolicyFactory<RoundRobinConfig> = Object.freeze({
  name: 'round_robin',
  parseConfig: parseRoundRobinConfig,
  create: createRoundRobinPolicy,
});
