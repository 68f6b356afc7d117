import { connectivityState } from '@grpc/grpc-js';
import { addressKey } from '../resolver/address';
import type { Endpoint } from '../resolver/types';
import { aggregateConnectivityState, countState, effectiveChildState, type MutableConnectivityCounts } from './aggregate';
import { createPickFirstPolicy } from './pick-first';
import { NO_ADDRESSES_ERROR, QUEUE_PICKER, allFailedDetails, failPicker, idlePicker, type SinglePicker } from './pickers';
import { ReadySet } from './ready-set';
import type { ChannelControlHelper, ConnectivityState, LoadBalancingPolicy, PickComplete, Picker, Subchannel } from './types';

const { IDLE, READY, TRANSIENT_FAILURE, SHUTDOWN } = connectivityState;

/** One endpoint of an {@link EndpointList}: a pick_first child over the endpoint's addresses (gRFC A61). */
export interface EndpointEntry<T> {
  /** The endpoint's identity: its distinct address keys, sorted (gRFC A61 compares unordered sets). */
  readonly key: string;
  /** The endpoint as last received; address order and attributes may change across updates. */
  endpoint: Endpoint;
  /** Position in the current endpoint list. */
  index: number;
  /** The child's last reported state; IDLE until it first reports (a lazy entry: until connected). */
  state: ConnectivityState;
  /** The child's last picker (for a non-READY entry: queue, fail, or trigger a connection). */
  picker: Picker;
  /** While READY: the child's pick result, the preallocated result of its selected subchannel. */
  result: PickComplete | undefined;
  /** Reported TRANSIENT_FAILURE since it was last READY: counts as failed for aggregation (gRFC A48/A58). */
  failed: boolean;
  /** Position in the READY set while READY, else -1 (owned by {@link ReadySet}). */
  readyIndex: number;
  /** The policy's own per-endpoint state, created when the endpoint first appears and kept across updates. */
  readonly data: T;
}

/** What a policy built on an {@link EndpointList} provides. */
export interface EndpointListOptions<T> {
  /** The policy's helper: subchannels, publishing, re-resolution, clock and random all go through it. */
  readonly helper: ChannelControlHelper;
  /** The policy's state for a new endpoint. */
  createData(endpoint: Endpoint, key: string): T;
  /**
   * The picker to publish for the aggregated `state`, or `undefined` for the standard one (queue while
   * CONNECTING or IDLE, fail while TRANSIENT_FAILURE). Called at most once per publication; READY
   * requires a picker.
   */
  buildPicker(state: ConnectivityState): Picker | undefined;
  /** The endpoint list changed (called inside `update`, before the publication that follows). */
  onListUpdated?(): void;
  /** An entry changed state (called before the publication that follows). */
  onEntryState?(entry: EndpointEntry<T>, previous: ConnectivityState): void;
  /** A subchannel was created for, or released by, an entry's child (e.g. to watch ORCA reports). */
  onSubchannelCreated?(entry: EndpointEntry<T>, subchannel: Subchannel): void;
  onSubchannelReleased?(entry: EndpointEntry<T>, subchannel: Subchannel): void;
  /**
   * Lazy entries (ring_hash, gRFC A61): no child until {@link EndpointList.connect}; an IDLE entry
   * stays IDLE. Eager entries (the default) connect at once and are reconnected whenever they go IDLE.
   */
  readonly lazy?: boolean;
  /** The aggregation rule; default {@link aggregateConnectivityState}. */
  aggregate?(counts: Readonly<MutableConnectivityCounts>): ConnectivityState;
  /** Publish after any entry state change, not only when the aggregate or the READY set changed. */
  readonly publishEveryChange?: boolean;
}

interface Internal<T> extends EndpointEntry<T> {
  /** Address keys in the endpoint's order: the child gets a new list only when this changes. */
  orderKey: string;
  child: LoadBalancingPolicy | undefined;
  removed: boolean;
  /** The update generation the entry was last listed in. */
  seen: number;
}

/**
 * The child bookkeeping every balancing ("petiole") policy shares, as grpc-go's `endpointsharding`
 * and C-core's `endpoint_list` (gRFC A61): one `pick_first` child per endpoint, so an endpoint with
 * several addresses is one share and Happy Eyeballs runs inside it.
 *
 * - Endpoints are matched across updates by their unordered address set; a kept endpoint keeps its
 *   child (and connection) and gets the new address order; duplicates after the first are ignored.
 * - State counts are kept incrementally (O(1) per child state change) over the sticky per-endpoint
 *   states of gRFC A48/A58; the READY endpoints form a {@link ReadySet} whose views pickers share, so
 *   adding an endpoint to a new picker is O(1).
 * - Coalescing: a child's reports arriving inside `updateEndpoints`, `exitIdle`, `connect` or another
 *   child's report are deferred to the end of the outermost call, which reconnects IDLE children
 *   (eager lists) and then publishes at most once. Connecting N endpoints is O(N) overall.
 * - Publication: when the aggregated state, the READY set, or (in TRANSIENT_FAILURE) the error changed.
 *   TRANSIENT_FAILURE names the last child error, as gRFC A61 asks of petiole policies.
 */
export class EndpointList<T> {
  /** The current endpoints, in resolver order. */
  entries: readonly EndpointEntry<T>[] = [];
  /** The READY endpoints. */
  readonly ready = new ReadySet<EndpointEntry<T>>();
  readonly counts: MutableConnectivityCounts = { ready: 0, connecting: 0, idle: 0, transientFailure: 0 };
  private readonly byKey = new Map<string, Internal<T>>();
  private state: ConnectivityState | undefined;
  private lastError: string | undefined;
  private publishedDetails: string | undefined;
  private publishedReadyVersion = -1;
  private depth = 0;
  private changed = false;
  private readonly pendingExitIdle: Internal<T>[] = [];
  private generation = 0;
  private closed = false;

  constructor(private readonly options: EndpointListOptions<T>) {}

  /**
   * A new endpoint list from the resolver (gRFC A61 "Address List Updates in Petiole Policies").
   * @param republish publish a new picker even if nothing else changed (the policy's config did).
   */
  update(endpoints: readonly Endpoint[], republish = false): void {
    if (this.closed) return;
    this.batch(() => {
      const generation = ++this.generation;
      const next: Internal<T>[] = [];
      for (const endpoint of endpoints) {
        const keys = endpoint.addresses.map(addressKey);
        if (keys.length === 0) continue;
        const key = [...new Set(keys)].sort().join(',');
        let entry = this.byKey.get(key);
        if (entry?.seen === generation) continue;
        if (entry === undefined) {
          entry = this.create(endpoint, key);
          this.byKey.set(key, entry);
        }
        entry.seen = generation;
        entry.endpoint = endpoint;
        entry.index = next.length;
        next.push(entry);
        const orderKey = keys.join(',');
        if (entry.child !== undefined && entry.orderKey !== orderKey) entry.child.updateEndpoints([endpoint], undefined);
        entry.orderKey = orderKey;
      }
      const previous = this.entries as Internal<T>[];
      this.entries = next;
      // New children first, so an address that moved to another endpoint keeps its pooled connection.
      if (!this.options.lazy) for (const entry of next) if (entry.child === undefined) this.startChild(entry);
      for (const entry of previous) if (entry.seen !== generation) this.remove(entry);
      if (next.length === 0) this.lastError = NO_ADDRESSES_ERROR;
      this.changed = true;
      if (republish) this.publishedReadyVersion = -1;
      this.options.onListUpdated?.();
    });
  }

  /** The resolver failed: only a list without endpoints goes TRANSIENT_FAILURE with `error`. */
  resolverError(error: string): void {
    if (this.closed || this.entries.length > 0) return;
    this.lastError = error;
    this.changed = true;
    this.batch(() => undefined);
  }

  /** Reconnect IDLE children (a call arrived on an IDLE channel). */
  exitIdle(): void {
    if (this.closed || this.options.lazy) return;
    this.batch(() => {
      for (const entry of this.entries as Internal<T>[]) if (entry.state === IDLE) this.pendingExitIdle.push(entry);
    });
  }

  /** Start connecting `entry` (lazy lists; for eager ones a no-op unless the entry is IDLE). */
  connect(entry: EndpointEntry<T>): void {
    const internal = entry as Internal<T>;
    if (this.closed || internal.removed) return;
    this.batch(() => {
      if (internal.child === undefined) this.startChild(internal);
      else if (internal.state === IDLE) this.pendingExitIdle.push(internal);
    });
  }

  /** Close every child (releasing every subchannel); nothing is published afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const entries = this.entries as Internal<T>[];
    this.entries = [];
    for (const entry of entries) this.remove(entry);
  }

  private create(endpoint: Endpoint, key: string): Internal<T> {
    const entry: Internal<T> = {
      key,
      endpoint,
      index: 0,
      state: IDLE,
      picker: QUEUE_PICKER,
      result: undefined,
      failed: false,
      readyIndex: -1,
      data: this.options.createData(endpoint, key),
      orderKey: '',
      child: undefined,
      removed: false,
      seen: 0,
    };
    if (this.options.lazy) entry.picker = idlePicker(() => this.connect(entry));
    countState(this.counts, IDLE);
    return entry;
  }

  private startChild(entry: Internal<T>): void {
    const helper = this.options.helper;
    const options = this.options;
    const child = createPickFirstPolicy({
      createSubchannel: (address) => {
        const subchannel = helper.createSubchannel(address);
        options.onSubchannelCreated?.(entry, subchannel);
        return subchannel;
      },
      releaseSubchannel: (subchannel) => {
        options.onSubchannelReleased?.(entry, subchannel);
        helper.releaseSubchannel(subchannel);
      },
      updateState: (state, picker, error) => this.onChildState(entry, state, picker, error),
      requestReresolution: () => {
        if (!this.closed && !entry.removed) helper.requestReresolution();
      },
      clock: helper.clock,
      random: helper.random,
      connectionAttemptDelayMs: helper.connectionAttemptDelayMs,
      metrics: helper.metrics,
    });
    entry.child = child;
    child.updateEndpoints([entry.endpoint], undefined);
  }

  private remove(entry: Internal<T>): void {
    if (entry.removed) return;
    entry.removed = true;
    this.byKey.delete(entry.key);
    this.ready.remove(entry);
    countState(this.counts, effectiveChildState(entry.state, entry.failed), -1);
    entry.child?.close();
    entry.child = undefined;
  }

  private onChildState(entry: Internal<T>, state: ConnectivityState, picker: Picker, error: string | undefined): void {
    if (this.closed || entry.removed) return;
    this.batch(() => {
      const previous = entry.state;
      countState(this.counts, effectiveChildState(previous, entry.failed), -1);
      entry.state = state;
      entry.picker = picker;
      if (state === READY) {
        entry.failed = false;
        const result = (picker as Partial<SinglePicker>).result;
        if (entry.result !== result) this.ready.remove(entry);
        entry.result = result;
        if (result !== undefined) this.ready.add(entry);
      } else {
        entry.result = undefined;
        this.ready.remove(entry);
        if (state === TRANSIENT_FAILURE || state === SHUTDOWN) {
          entry.failed = true;
          if (error !== undefined) this.lastError = error;
        }
      }
      countState(this.counts, effectiveChildState(state, entry.failed), 1);
      if (state === IDLE && !this.options.lazy) this.pendingExitIdle.push(entry);
      this.changed = true;
      this.options.onEntryState?.(entry, previous);
    });
  }

  /** Run `body`; the outermost call then reconnects IDLE children and publishes once. */
  private batch(body: () => void): void {
    this.depth++;
    try {
      body();
    } finally {
      this.depth--;
    }
    if (this.depth > 0) return;
    this.depth++;
    try {
      for (let entry = this.pendingExitIdle.shift(); entry !== undefined; entry = this.pendingExitIdle.shift()) {
        if (!this.closed && !entry.removed && entry.state === IDLE) entry.child?.exitIdle();
      }
    } finally {
      this.depth--;
    }
    if (this.changed && !this.closed) {
      this.changed = false;
      this.publish();
    }
  }

  private publish(): void {
    const options = this.options;
    const helper = options.helper;
    const state =
      this.entries.length === 0 ? TRANSIENT_FAILURE : (options.aggregate ?? aggregateConnectivityState)(this.counts);
    const stateChanged = state !== this.state;
    let details: string | undefined;
    if (state === TRANSIENT_FAILURE) {
      details = this.entries.length === 0 ? this.lastError ?? NO_ADDRESSES_ERROR : allFailedDetails(this.lastError);
    }
    const readyChanged = this.ready.version !== this.publishedReadyVersion;
    if (
      !stateChanged &&
      !options.publishEveryChange &&
      !(state === READY && readyChanged) &&
      !(state === TRANSIENT_FAILURE && details !== this.publishedDetails)
    ) {
      return;
    }
    const picker = (this.entries.length === 0 ? undefined : options.buildPicker(state)) ??
      (details !== undefined ? failPicker(details) : QUEUE_PICKER);
    this.state = state;
    this.publishedDetails = details;
    this.publishedReadyVersion = this.ready.version;
    helper.updateState(state, picker, details === undefined ? undefined : this.entries.length === 0 ? details : this.lastError);
  }
}

/**
 * The {@link LoadBalancingPolicy} of a balancing policy that is an {@link EndpointList} and a config:
 * an update's config, when it is a new one (configs are parsed once per service config), goes to
 * `applyConfig` first and then publishes a new picker with the endpoints (gRFC A58 asks a new picker
 * for new parameters); resolver errors, exit-idle and close go to the list.
 * @param applyConfig takes a new parsed config; without it the config is ignored.
 * @param exitIdle replaces the list's `exitIdle` (ring_hash connects one endpoint instead).
 */
export function endpointListPolicy<T>(
  list: EndpointList<T>,
  applyConfig?: (parsed: unknown) => void,
  exitIdle: () => void = () => list.exitIdle(),
): LoadBalancingPolicy {
  let last: unknown;
  return {
    updateEndpoints(endpoints, parsed) {
      const changed = applyConfig !== undefined && parsed !== undefined && parsed !== last;
      if (changed) {
        last = parsed;
        applyConfig(parsed);
      }
      list.update(endpoints, changed);
    },
    resolverError: (error) => list.resolverError(error),
    exitIdle,
    close: () => list.close(),
  };
}
