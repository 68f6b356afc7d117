import { connectivityState } from '@grpc/grpc-js';
import type { TimerHandle } from '../clock';
import { ConfigError } from '../errors';
import { expectObject } from '../json/path';
import { addressKey } from '../resolver/address';
import type { Address, Endpoint } from '../resolver/types';
import { flattenDistinctAddresses } from './address-list';
import { interleaveAddressFamilies } from './interleave';
import {
  NO_ADDRESSES_ERROR, QUEUE_PICKER, allFailedDetails, completePick, failPicker, idlePicker, singlePicker,
} from './pickers';
import { shuffle } from './shuffle';
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

/** `pick_first`'s parsed config (gRFC A62). */
export interface PickFirstConfig {
  /** Shuffle the endpoint list (not the addresses inside an endpoint) on every resolver update. */
  readonly shuffleAddressList: boolean;
}

/**
 * Validate `pick_first`'s config object (gRFC A62): `{ "shuffleAddressList"?: boolean }`. Unknown
 * fields are ignored, as A62 asks of implementations that meet fields they do not know.
 *
 * @param json the value under `pick_first` in a `loadBalancingConfig` entry.
 * @param path its JSON path, e.g. `loadBalancingConfig[0].pick_first`.
 * @throws ConfigError at `path` if `json` is not a JSON object, or at `${path}.shuffleAddressList`
 *   if that field is present and not a boolean.
 */
export function parsePickFirstConfig(json: unknown, path: string): PickFirstConfig {
  const shuffleAddressList = expectObject(json, path).shuffleAddressList;
  if (shuffleAddressList !== undefined && typeof shuffleAddressList !== 'boolean') {
    throw new ConfigError(`${path}.shuffleAddressList`, 'must be a boolean', shuffleAddressList);
  }
  return Object.freeze({ shuffleAddressList: shuffleAddressList === true });
}

/** One address pick_first holds a subchannel for. */
interface Child {
  readonly subchannel: Subchannel;
  readonly key: string;
  readonly listener: SubchannelStateListener;
  /** Preallocated: the READY picker of every selection of this subchannel returns the same object. */
  readonly result: PickComplete;
  /** Position in the current pass's address list. */
  index: number;
  /** A connect attempt on this address failed during the current pass. */
  failedThisPass: boolean;
  /** After the pass: a connect attempt failed since re-resolution was last requested. */
  failedThisRound: boolean;
  released: boolean;
}

export { NO_ADDRESSES_ERROR } from './pickers';

/**
 * Create a `pick_first` policy instance: one connection to the first address that works.
 *
 * Behaviour, by spec:
 * - On each endpoint list: optional endpoint shuffle (gRFC A62 `shuffleAddressList`), flatten and
 *   dedupe addresses, interleave IPv6/IPv4 (gRFC A61 "Address List Handling", RFC 8305 section 4).
 * - Happy Eyeballs (gRFC A61): connect to the first address; if it is not READY after
 *   `helper.connectionAttemptDelayMs`, also start the next one without cancelling the first; a
 *   failure of the latest attempt starts the next at once. The first subchannel to report READY
 *   is selected and every other one is released.
 * - Only when every address failed at least once: TRANSIENT_FAILURE, re-resolution requested, and
 *   from then on every subchannel that leaves its backoff (IDLE) is reconnected; the policy stays
 *   TRANSIENT_FAILURE (sticky, gRFC A62) until one is READY, and requests re-resolution again each
 *   time every address has failed once more. A new endpoint list while in TRANSIENT_FAILURE after
 *   connection failures starts a new pass but keeps reporting TRANSIENT_FAILURE. Stickiness is for
 *   connection failures only (as grpc-go's pickfirst): a TRANSIENT_FAILURE that came from a resolver
 *   error or an empty list turns CONNECTING with the next usable list, so fail-fast calls wait for the
 *   connection instead of failing with the old resolver error.
 * - A pass that fails at once because every address is still in its reconnect backoff does not
 *   request re-resolution: the resolver has just answered, and a resolver that answers immediately
 *   (a static `ipv4:` list) would otherwise loop update → pass → request → update without end.
 *   Re-resolution then waits for every address to fail once more, which the backoff paces.
 * - Losing the selected connection (its subchannel goes IDLE or SHUTDOWN): IDLE, re-resolution
 *   requested; the IDLE picker (or the channel, or a parent policy) calls `exitIdle()`, which starts a
 *   new pass.
 * - A health signal on the selected subchannel (READY → TRANSIENT_FAILURE or CONNECTING and back,
 *   the connection staying up: health checking, gRFC A17, or an `outlier_detection` ejection, A50) is
 *   reported as this policy's state, with the same selection kept: the generic health reporting of
 *   gRFC A61, so a parent sees an unhealthy endpoint without the connection being churned. An endpoint list that still
 *   contains the selected address keeps its connection; one that does not drops it and starts a new
 *   pass (no parallel "pending list" as C-core has).
 * - Empty list: TRANSIENT_FAILURE {@link NO_ADDRESSES_ERROR}. A resolver error with no addresses:
 *   TRANSIENT_FAILURE with that error; otherwise it is ignored.
 *
 * Timers use `helper.clock`. Every subchannel created is released when dropped and on `close()`.
 * `config` passed to `updateEndpoints` is a {@link PickFirstConfig} or `undefined` (no shuffle).
 */
export function createPickFirstPolicy(helper: ChannelControlHelper): LoadBalancingPolicy {
  let closed = false;
  let addresses: Address[] = [];
  /** The subchannels held: the pass's list in order, `[selected]` when READY, empty when IDLE. */
  let children: Child[] = [];
  let selected: Child | undefined;
  let state: ConnectivityState | undefined;
  let lastError: string | undefined;
  /** Index of the next address the current pass will start. */
  let nextIndex = 0;
  let failedCount = 0;
  /** Every address failed once in this pass: sticky TRANSIENT_FAILURE, reconnect on IDLE. */
  let passDone = false;
  /** Addresses that failed since re-resolution was last requested (after the pass). */
  let failedRoundCount = 0;
  /** Inside `startPass`: a pass completing now completed without any new connection failure. */
  let startingPass = false;
  /** The published TRANSIENT_FAILURE came from connection failures (sticky across new lists, gRFC A62). */
  let connectionFailure = false;
  let timer: TimerHandle | undefined;
  const exitIdleSoon = (): void => policy.exitIdle();

  function publish(next: ConnectivityState, picker: Picker, error?: string): void {
    state = next;
    connectionFailure = false;
    helper.updateState(next, picker, error);
  }

  function publishConnectionFailure(): void {
    publish(connectivityState.TRANSIENT_FAILURE, failPicker(allFailedDetails(lastError)), lastError);
    connectionFailure = true;
  }

  function clearTimer(): void {
    if (timer !== undefined) {
      helper.clock.clearTimeout(timer);
      timer = undefined;
    }
  }

  function acquire(address: Address, key: string): Child {
    const subchannel = helper.createSubchannel(address);
    const child: Child = {
      subchannel,
      key,
      result: completePick(subchannel),
      index: 0,
      failedThisPass: false,
      failedThisRound: false,
      released: false,
      listener: (_sc, _previous, next, error) => onChildState(child, next, error),
    };
    subchannel.addStateListener(child.listener);
    return child;
  }

  function release(child: Child): void {
    if (child.released) return;
    child.released = true;
    child.subchannel.removeStateListener(child.listener);
    helper.releaseSubchannel(child.subchannel);
  }

  function releaseAll(): void {
    const held = children;
    children = [];
    selected = undefined;
    for (const child of held) release(child);
  }

  function markFailed(child: Child, error: string | undefined): void {
    lastError = error ?? child.subchannel.getLastError() ?? lastError;
    if (!child.failedThisPass) {
      child.failedThisPass = true;
      failedCount++;
    }
  }

  function select(child: Child): void {
    clearTimer();
    passDone = false;
    selected = child;
    const others = children;
    children = [child];
    for (const other of others) if (other !== child) release(other);
    publish(connectivityState.READY, singlePicker(child.result));
  }

  /** Start a Happy Eyeballs pass over `addresses`, reusing subchannels already held. */
  function startPass(): void {
    clearTimer();
    const held = new Map<string, Child>();
    for (const child of children) held.set(child.key, child);
    const next: Child[] = [];
    for (const address of addresses) {
      const key = addressKey(address);
      let child = held.get(key);
      if (child === undefined) child = acquire(address, key);
      else held.delete(key);
      child.index = next.length;
      child.failedThisPass = false;
      child.failedThisRound = false;
      next.push(child);
    }
    for (const dropped of held.values()) release(dropped);
    children = next;
    selected = undefined;
    passDone = false;
    failedCount = 0;
    failedRoundCount = 0;
    nextIndex = 0;
    // A shared subchannel may already be connected (gRFC A61, C-core notes): take it at once.
    for (const child of children) {
      if (child.subchannel.getState() === connectivityState.READY) {
        select(child);
        return;
      }
    }
    if (state !== connectivityState.CONNECTING && !(state === connectivityState.TRANSIENT_FAILURE && connectionFailure)) {
      publish(connectivityState.CONNECTING, QUEUE_PICKER);
    }
    startingPass = true;
    try {
      attemptFrom(0);
    } finally {
      startingPass = false;
    }
  }

  /** Start the attempt at `from` (or the first not-yet-failed address after it). */
  function attemptFrom(from: number): void {
    clearTimer();
    for (let i = from; i < children.length; i++) {
      const child = children[i] as Child;
      const current = child.subchannel.getState();
      if (child.failedThisPass) continue;
      if (current !== connectivityState.IDLE && current !== connectivityState.CONNECTING) {
        // In backoff from a recent failure (gRFC A61): counts as a failed attempt, move on.
        markFailed(child, undefined);
        continue;
      }
      // Bookkeeping before connect(): connect() may report a failure synchronously, re-entering here.
      nextIndex = i + 1;
      if (nextIndex < children.length) timer = helper.clock.setTimeout(onAttemptDelay, helper.connectionAttemptDelayMs);
      if (current === connectivityState.IDLE) child.subchannel.connect();
      return;
    }
    nextIndex = children.length;
    checkPassComplete();
  }

  function onAttemptDelay(): void {
    timer = undefined;
    if (closed || selected !== undefined) return;
    attemptFrom(nextIndex);
  }

  function checkPassComplete(): void {
    if (passDone || selected !== undefined || children.length === 0 || failedCount < children.length) return;
    clearTimer();
    passDone = true;
    publishConnectionFailure();
    if (!startingPass) helper.requestReresolution();
    connectIdleChildren();
  }

  /** Sticky TRANSIENT_FAILURE: once every address has failed again, ask for fresh addresses again. */
  function countRoundFailure(child: Child): void {
    if (child.failedThisRound) return;
    child.failedThisRound = true;
    if (++failedRoundCount < children.length) return;
    failedRoundCount = 0;
    for (const c of children) c.failedThisRound = false;
    helper.requestReresolution();
  }

  function connectIdleChildren(): void {
    const snapshot = children;
    for (const child of snapshot) {
      // A synchronous READY inside connect() replaces `children`: stop then.
      if (closed || children !== snapshot || !passDone) return;
      if (!child.released && child.subchannel.getState() === connectivityState.IDLE) child.subchannel.connect();
    }
  }

  function onChildState(child: Child, next: ConnectivityState, error: string | undefined): void {
    if (closed || child.released) return;
    if (child === selected) {
      onSelectedState(child, next, error);
      return;
    }
    if (selected !== undefined) return;
    switch (next) {
      case connectivityState.READY:
        helper.metrics?.addCount('grpc.lb.pick_first.connection_attempts_succeeded', 1); // gRFC A78
        select(child);
        return;
      case connectivityState.IDLE:
        if (passDone) child.subchannel.connect();
        return;
      case connectivityState.CONNECTING:
        return;
      default: {
        // A real failure (even one reported synchronously from connect() inside startPass) may re-resolve.
        if (next === connectivityState.TRANSIENT_FAILURE) helper.metrics?.addCount('grpc.lb.pick_first.connection_attempts_failed', 1);
        startingPass = false;
        markFailed(child, error);
        if (passDone) {
          publishConnectionFailure();
          countRoundFailure(child);
        } else if (child.index === nextIndex - 1) {
          attemptFrom(nextIndex); // the latest attempt failed: do not wait for the delay
        } else {
          checkPassComplete();
        }
      }
    }
  }

  function onSelectedState(child: Child, next: ConnectivityState, error: string | undefined): void {
    switch (next) {
      case connectivityState.READY:
        publish(next, singlePicker(child.result));
        return;
      case connectivityState.TRANSIENT_FAILURE: {
        // Unhealthy while connected (gRFC A61 generic health reporting): keep the connection.
        const reason = error ?? child.subchannel.getLastError() ?? `${child.key} is unhealthy`;
        publish(next, failPicker(reason), reason);
        return;
      }
      case connectivityState.CONNECTING:
        publish(next, QUEUE_PICKER);
        return;
      default:
        // The selected connection is gone: IDLE until the next pick (gRFC A62 background).
        helper.metrics?.addCount('grpc.lb.pick_first.disconnections', 1); // gRFC A78
        releaseAll();
        publish(connectivityState.IDLE, idlePicker(exitIdleSoon));
        helper.requestReresolution();
    }
  }

  const policy: LoadBalancingPolicy = {
    updateEndpoints(endpoints: readonly Endpoint[], config: unknown): void {
      if (closed) return;
      const shuffleList = (config as Partial<PickFirstConfig> | undefined)?.shuffleAddressList === true;
      const ordered = shuffleList ? shuffle(endpoints, helper.random) : endpoints;
      addresses = interleaveAddressFamilies(flattenDistinctAddresses(ordered));
      if (addresses.length === 0) {
        clearTimer();
        releaseAll();
        passDone = false;
        lastError = NO_ADDRESSES_ERROR;
        publish(connectivityState.TRANSIENT_FAILURE, failPicker(NO_ADDRESSES_ERROR), NO_ADDRESSES_ERROR);
        return;
      }
      if (selected !== undefined) {
        const key = selected.key;
        if (addresses.some((address) => addressKey(address) === key)) return;
        releaseAll();
        startPass();
        return;
      }
      // Lost connection, waiting for a pick: the IDLE picker's exitIdle will use the new list.
      if (state === connectivityState.IDLE) return;
      startPass();
    },

    resolverError(error: string): void {
      if (closed || addresses.length > 0) return;
      lastError = error;
      publish(connectivityState.TRANSIENT_FAILURE, failPicker(error), error);
    },

    exitIdle(): void {
      if (closed || state !== connectivityState.IDLE || addresses.length === 0) return;
      startPass();
    },

    close(): void {
      if (closed) return;
      closed = true;
      clearTimer();
      releaseAll();
    },
  };
  return policy;
}

/**
 * The `pick_first` policy factory: gRPC's default policy (gRFC A62, with Happy Eyeballs per gRFC
 * A61). Registered by `src/picker/index.ts`.
 */
export const pickFirstPolicy: LoadBalancingPolicyFactory<PickFirstConfig> = Object.freeze({
  name: 'pick_first',
  parseConfig: parsePickFirstConfig,
  create: createPickFirstPolicy,
});
