import { connectivityState, status } from '@grpc/grpc-js';
import type { TimerHandle } from '../clock';
import { addressKey } from '../resolver/address';
import type { Endpoint } from '../resolver/types';
import { EjectableSubchannel } from './ejectable-subchannel';
import { outlierEndpoint, runOutlierDetection, type OutlierEndpoint } from './outlier-ejection';
import { parseOutlierDetectionConfig, type OutlierDetectionConfig } from './outlier-detection-config';
import { failPicker } from './pickers';
import type {
  AttemptEndedHook, ChannelControlHelper, ConnectivityState, LoadBalancingPolicy, LoadBalancingPolicyFactory, PickArgs,
  PickComplete, Picker, PickResult, Subchannel,
} from './types';

export { parseOutlierDetectionConfig, type OutlierDetectionConfig } from './outlier-detection-config';

const OK = status.OK;

/** An endpoint's outlier state and the wrappers of its addresses' subchannels (gRFC A61: per endpoint). */
interface Tracked extends OutlierEndpoint {
  readonly subchannels: Set<EjectableSubchannel<Tracked>>;
}

/**
 * The result to return for a child's pick of `wrapper`: the same subchannel, with a hook that counts
 * the call for the wrapper's endpoint (gRFC A50: success = status OK) and then runs the child's own hook.
 * Built once per (wrapper, child result), so picks allocate nothing.
 */
function countingResult(wrapper: EjectableSubchannel<Tracked>, childResult: PickComplete): PickComplete {
  const cached = wrapper.pickCache;
  if (cached?.childResult === childResult) return cached.result;
  const childHook = childResult.onAttemptEnded;
  const onAttemptEnded: AttemptEndedHook = (code, trailers, elapsedMs) => {
    const endpoint = wrapper.endpoint;
    if (endpoint !== undefined) {
      if (code === OK) endpoint.successes++;
      else endpoint.failures++;
    }
    childHook?.(code, trailers, elapsedMs);
  };
  const result: PickComplete = Object.freeze({ type: 'complete', subchannel: wrapper, onAttemptEnded });
  wrapper.pickCache = { childResult, result };
  return result;
}

/** Wraps the child's picker so every completed pick of a tracked subchannel is counted. O(1), no allocation. */
function countingPicker(child: Picker): Picker {
  return {
    pick(args: PickArgs): PickResult {
      const result = child.pick(args);
      if (result.type !== 'complete' || !(result.subchannel instanceof EjectableSubchannel)) return result;
      return countingResult(result.subchannel as EjectableSubchannel<Tracked>, result);
    },
  };
}

/**
 * Create an `outlier_detection` policy instance (gRFC A50, per endpoint as gRFC A61 amends it): a
 * parent of `childPolicy` that counts call results per endpoint and ejects outliers.
 *
 * - Every subchannel the child creates is wrapped ({@link EjectableSubchannel}) and tied to its
 *   endpoint's entry; an ejected endpoint's subchannels report TRANSIENT_FAILURE to the child (which
 *   stops picking them) while the connections stay up.
 * - The child's picker is wrapped to count each attempt's status through the pick's `onAttemptEnded`
 *   hook (chained before the child's own hook), unless neither algorithm is configured.
 * - Every `interval` (on `helper.clock`), {@link runOutlierDetection}: success-rate and failure-percentage
 *   ejection bounded by `maxEjectionPercent`, un-ejection after `baseEjectionTime × multiplier` (capped
 *   at `maxEjectionTime`), the multiplier decaying while not ejected. A new config restarts the timer
 *   for what remains of the interval; a config with neither algorithm stops it and un-ejects all.
 * - Endpoints are matched across updates by their address set; counters and ejections survive updates.
 * - Health checking (gRFC A17) composes: the channel's health-checked subchannels are what get wrapped.
 */
export function createOutlierDetectionPolicy(helper: ChannelControlHelper): LoadBalancingPolicy {
  const clock = helper.clock;
  let config: OutlierDetectionConfig | undefined;
  let child: LoadBalancingPolicy | undefined;
  let childFactory: LoadBalancingPolicyFactory | undefined;
  let childState: { state: ConnectivityState; picker: Picker; error: string | undefined } | undefined;
  /** Endpoint entries by endpoint key (sorted address keys), and by each of their address keys. */
  let endpoints = new Map<string, Tracked>();
  let byAddress = new Map<string, Tracked>();
  let timer: TimerHandle | undefined;
  let timerStartedAt: number | undefined;
  let closed = false;

  const counting = (): boolean =>
    config !== undefined && (config.successRateEjection !== undefined || config.failurePercentageEjection !== undefined);

  function publish(): void {
    if (closed || childState === undefined) return;
    const { state, picker, error } = childState;
    helper.updateState(state, counting() ? countingPicker(picker) : picker, error);
  }

  function eject(entry: OutlierEndpoint): void {
    for (const wrapper of (entry as Tracked).subchannels) wrapper.eject();
  }

  function uneject(entry: OutlierEndpoint): void {
    for (const wrapper of (entry as Tracked).subchannels) wrapper.uneject();
  }

  function onTimer(): void {
    timer = undefined;
    if (closed || config === undefined) return;
    const now = clock.now();
    timerStartedAt = now;
    runOutlierDetection([...endpoints.values()], config, now, { eject, uneject, random: helper.random });
    timer = clock.setTimeout(onTimer, config.intervalMs);
  }

  /** gRFC A50's handling of a new config: (re)start the timer for the rest of the interval, or stop everything. */
  function applyTimer(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    if (config === undefined) return;
    if (!counting()) {
      timerStartedAt = undefined;
      for (const entry of endpoints.values()) {
        entry.multiplier = 0;
        if (entry.ejectedAt !== undefined) {
          entry.ejectedAt = undefined;
          uneject(entry);
        }
      }
      return;
    }
    const now = clock.now();
    if (timerStartedAt === undefined) {
      timerStartedAt = now;
      for (const entry of endpoints.values()) entry.successes = entry.failures = 0;
    }
    timer = clock.setTimeout(onTimer, Math.max(0, config.intervalMs - (now - timerStartedAt)));
  }

  function createChild(factory: LoadBalancingPolicyFactory): LoadBalancingPolicy {
    const instance: LoadBalancingPolicy = factory.create({
      createSubchannel(address) {
        const wrapper = new EjectableSubchannel<Tracked>(helper.createSubchannel(address), byAddress.get(addressKey(address)));
        wrapper.endpoint?.subchannels.add(wrapper);
        if (wrapper.endpoint?.ejectedAt !== undefined) wrapper.eject();
        return wrapper;
      },
      releaseSubchannel(subchannel: Subchannel) {
        const wrapper = subchannel as EjectableSubchannel<Tracked>;
        wrapper.endpoint?.subchannels.delete(wrapper);
        wrapper.dispose();
        helper.releaseSubchannel(wrapper.inner);
      },
      updateState(state, picker, error) {
        if (closed || child !== instance) return;
        childState = { state, picker, error };
        publish();
      },
      requestReresolution() {
        if (!closed && child === instance) helper.requestReresolution();
      },
      clock,
      random: helper.random,
      connectionAttemptDelayMs: helper.connectionAttemptDelayMs,
      metrics: helper.metrics,
    });
    return instance;
  }

  /** Re-key the endpoint map for a new list (A61), keeping entries of endpoints that stay. */
  function trackEndpoints(list: readonly Endpoint[]): void {
    const nextEndpoints = new Map<string, Tracked>();
    const nextByAddress = new Map<string, Tracked>();
    for (const endpoint of list) {
      const keys = endpoint.addresses.map(addressKey);
      if (keys.length === 0) continue;
      const key = [...new Set(keys)].sort().join(',');
      const entry = nextEndpoints.get(key) ?? endpoints.get(key) ?? { ...outlierEndpoint(), subchannels: new Set() };
      nextEndpoints.set(key, entry);
      for (const address of keys) if (!nextByAddress.has(address)) nextByAddress.set(address, entry);
    }
    // Re-point every live wrapper at its address's (possibly new) endpoint, with that endpoint's ejection.
    const wrappers = new Set<EjectableSubchannel<Tracked>>();
    for (const entry of endpoints.values()) for (const wrapper of entry.subchannels) wrappers.add(wrapper);
    for (const entry of nextEndpoints.values()) entry.subchannels.clear();
    endpoints = nextEndpoints;
    byAddress = nextByAddress;
    for (const wrapper of wrappers) {
      const entry = byAddress.get(wrapper.key);
      wrapper.endpoint = entry;
      entry?.subchannels.add(wrapper);
      if (entry?.ejectedAt !== undefined) wrapper.eject();
      else wrapper.uneject();
    }
  }

  return {
    updateEndpoints(list: readonly Endpoint[], parsed: unknown) {
      if (closed || parsed === undefined) return;
      const previous = config;
      config = parsed as OutlierDetectionConfig;
      trackEndpoints(list);
      if (config !== previous) applyTimer();
      const factory = config.childPolicy.factory;
      const old = child;
      if (child === undefined || childFactory !== factory) {
        childFactory = factory;
        child = createChild(factory);
      }
      child.updateEndpoints(list, config.childPolicy.config);
      if (old !== child) old?.close();
      // A change of counting on or off needs the child's picker wrapped (or unwrapped) now.
      if (previous !== undefined && config !== previous) publish();
    },
    resolverError(error: string) {
      if (closed) return;
      if (child !== undefined) child.resolverError(error);
      else helper.updateState(connectivityState.TRANSIENT_FAILURE, failPicker(error), error);
    },
    exitIdle() {
      if (!closed) child?.exitIdle();
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      child?.close();
      child = undefined;
    },
  };
}

/** The `outlier_detection` policy factory (gRFC A50). Registered by `src/picker/index.ts`. */
export const outlierDetectionPolicy: LoadBalancingPolicyFactory<OutlierDetectionConfig> = Object.freeze({
  name: 'outlier_detection',
  parseConfig: parseOutlierDetectionConfig,
  create: createOutlierDetectionPolicy,
});
