import { connectivityState } from '@grpc/grpc-js';
import type { Clock } from '../clock';
import { EndpointList, endpointListPolicy } from './endpoint-list';
import { PolicyConfigReader } from './policy-config';
import { hookedResult, powerOfChoicesPicker } from './power-of-choices';
import type { AttemptEndedHook, ChannelControlHelper, LoadBalancingPolicy, LoadBalancingPolicyFactory, PickComplete } from './types';

/** `switchyard.peak_ewma`'s parsed config. Durations in ms. */
export interface PeakEwmaConfig {
  /** Time constant τ of the moving average: an observation's weight falls to 1/e after `decayMs`. */
  readonly decayMs: number;
  /** The latency estimate of an endpoint with no observation yet (so a new endpoint is not flooded). */
  readonly defaultRttMs: number;
}

/** Defaults: 10 s decay (Finagle's `Balancers.p2cPeakEwma` default), 30 ms starting estimate (ours; tower leaves it to the caller). */
const PEAK_EWMA_DEFAULTS: PeakEwmaConfig = Object.freeze({ decayMs: 10_000, defaultRttMs: 30 });

/**
 * Validate `switchyard.peak_ewma`'s config: `{ "decay"?: Duration, "defaultRtt"?: Duration }` (proto3
 * JSON: `"10s"` or `{seconds, nanos}`; `default_rtt` also accepted), both > 0.
 * @throws ConfigError at `path` for a non-object, or at the field's path for a malformed or non-positive duration.
 */
export function parsePeakEwmaConfig(json: unknown, path: string): PeakEwmaConfig {
  const reader = new PolicyConfigReader(json, path);
  const decayMs = reader.durationMs('decay', PEAK_EWMA_DEFAULTS.decayMs, 0.000001);
  const defaultRttMs = reader.durationMs('defaultRtt', PEAK_EWMA_DEFAULTS.defaultRttMs, 0.000001);
  return Object.freeze({ decayMs, defaultRttMs });
}

/** One endpoint's peak-EWMA latency estimate and calls in flight. */
export interface RttEstimate {
  /** The estimate in ms, as of `updatedAt`. */
  rttMs: number;
  /** Clock ms of the last update (observation or decay on read). */
  updatedAt: number;
  inFlight: number;
  result: PickComplete | undefined;
  readonly onEnded: AttemptEndedHook;
}

/**
 * Fold one observation into the estimate, as Finagle's `PeakEwma` and tower's `load::PeakEwma` do: a
 * latency above the estimate replaces it at once (the peak); one below pulls it down by
 * `1 - e^(-Δt/τ)`, Δt being the time since the last update. An observation of 0 is a pure decay.
 */
export function observe(estimate: RttEstimate, rttMs: number, now: number, decayMs: number): void {
  if (rttMs > estimate.rttMs) {
    estimate.rttMs = rttMs;
  } else if (now > estimate.updatedAt) {
    const decay = expNegative((now - estimate.updatedAt) / decayMs);
    estimate.rttMs = estimate.rttMs * decay + rttMs * (1 - decay);
  }
  estimate.updatedAt = now;
}

/**
 * e^(−x) for x ≥ 0. Between two picks x is tiny (ms against a decay of seconds): there a cubic Taylor
 * polynomial is within 5e−14 of it for x < 1e−3, and much cheaper than `Math.exp`.
 */
function expNegative(x: number): number {
  return x < 1e-3 ? 1 - x * (1 - x * (0.5 - x / 6)) : Math.exp(-x);
}

/**
 * An endpoint's cost now: its estimate decayed to `now` (an observation of 0, so an endpoint without
 * traffic is tried again) times (calls in flight + 1), as tower's `PeakEwma::load`.
 */
export function peakEwmaCost(estimate: RttEstimate, now: number, decayMs: number): number {
  observe(estimate, 0, now, decayMs);
  return estimate.rttMs * (estimate.inFlight + 1);
}

/**
 * Create a `switchyard.peak_ewma` policy instance: latency-aware load balancing after Finagle's
 * `PeakEwma` balancer (twitter/finagle `finagle-core/.../loadbalancer/PeakEwma.scala`) as Linkerd and
 * tower (`tower/src/load/peak_ewma.rs`) use it. Not a gRPC standard.
 *
 * - Connection management and state aggregation of round_robin ({@link EndpointList}, gRFC A61).
 * - Each endpoint keeps a peak-sensitive EWMA of its attempts' latency (pick to end, from the pick's
 *   `onAttemptEnded` hook; every status counts) and its calls in flight.
 * - Cost = estimate decayed to now × (in flight + 1); a pick samples two distinct READY endpoints
 *   (power of two choices) and takes the cheaper. "Now" for a pick is the latest attempt end, so a
 *   pick reads no clock. Reading the cost decays the estimate toward 0, so an endpoint
 *   that gets no traffic is tried again.
 *
 * It reacts to slowness, not to errors: a backend that fails fast looks cheap. Put it under
 * `outlier_detection` when failures matter (docs/load-balancing.md).
 */
export function createPeakEwmaPolicy(helper: ChannelControlHelper): LoadBalancingPolicy {
  const clock: Clock = helper.clock;
  let config: PeakEwmaConfig = PEAK_EWMA_DEFAULTS;
  /**
   * Clock ms of the latest attempt end (or picker build): the "now" picks decay estimates to, so a pick
   * reads no clock. On a channel with traffic it trails the clock by less than one call's latency,
   * which is nothing against a decay of seconds.
   */
  let latest = clock.now();
  const list: EndpointList<RttEstimate> = new EndpointList<RttEstimate>({
    helper,
    createData() {
      const estimate: RttEstimate = {
        rttMs: config.defaultRttMs,
        updatedAt: clock.now(),
        inFlight: 0,
        result: undefined,
        onEnded: (_code, _trailers, elapsedMs) => {
          if (estimate.inFlight > 0) estimate.inFlight--;
          latest = clock.now();
          observe(estimate, elapsedMs, latest, config.decayMs);
        },
      };
      return estimate;
    },
    onEntryState(entry) {
      entry.data.result = hookedResult(entry.data.result, entry.result, entry.data.onEnded);
    },
    buildPicker(state) {
      if (state !== connectivityState.READY) return undefined;
      latest = clock.now();
      const decayMs = config.decayMs;
      const load = (estimate: RttEstimate): number => peakEwmaCost(estimate, latest, decayMs);
      return powerOfChoicesPicker(list.ready.view(), list.ready.size, 0, helper.random, load, (data) => data.inFlight++);
    },
  });
  return endpointListPolicy(list, (parsed) => {
    config = parsed as PeakEwmaConfig;
  });
}

/** The `switchyard.peak_ewma` policy factory. Registered by `src/picker/index.ts`. */
export const peakEwmaPolicy: LoadBalancingPolicyFactory<PeakEwmaConfig> = Object.freeze({
  name: 'switchyard.peak_ewma',
  parseConfig: parsePeakEwmaConfig,
  create: createPeakEwmaPolicy,
});
