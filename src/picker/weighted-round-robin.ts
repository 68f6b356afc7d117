import { connectivityState } from '@grpc/grpc-js';
import type { TimerHandle } from '../clock';
import type { Endpoint } from '../resolver/types';
import { currentWeight, emptyWeight, resetBlackout, updateWeight, weightUsability, type EndpointWeight } from './endpoint-weight';
import { EndpointList, type EndpointEntry } from './endpoint-list';
import { ORCA_TRAILER, decodeOrcaLoadReport, emptyOrcaLoadReport } from './orca-load-report';
import { watchOrcaOob, type OrcaOobWatch } from './orca-oob';
import { hookedResult } from './power-of-choices';
import { staticStrideScheduler, type Scheduler } from './static-stride';
import type { AttemptEndedHook, ChannelControlHelper, LoadBalancingPolicy, LoadBalancingPolicyFactory, PickArgs, PickComplete, Picker, PickResult, Subchannel } from './types';
import { WRR_DEFAULTS, parseWeightedRoundRobinConfig, type WeightedRoundRobinConfig } from './wrr-config';

export { parseWeightedRoundRobinConfig, type WeightedRoundRobinConfig } from './wrr-config';

/** One endpoint's weight, its per-call report hook, and its subchannels' OOB watches. */
interface Weighted {
  readonly weight: EndpointWeight;
  /** The result with the per-call ORCA hook (per-call reporting only). */
  result: PickComplete | undefined;
  readonly onEnded: AttemptEndedHook;
  readonly watches: Map<Subchannel, OrcaOobWatch | undefined>;
}

/** A picker whose scheduler the policy swaps every `weightUpdatePeriod` (gRFC A58). */
interface WrrPicker extends Picker {
  scheduler: Scheduler;
  /** The scheduler uses weights (false: round robin, no weight was usable). */
  weighted: boolean;
}

/**
 * Create a `weighted_round_robin` policy instance (gRFC A58), fed by ORCA load reports (gRFC A51).
 *
 * - Connection management and state aggregation of round_robin ({@link EndpointList}, one pick_first
 *   child per endpoint, gRFC A61); weights belong to endpoints and survive address-order changes.
 * - Reports: per call from the `endpoint-load-metrics-bin` trailer (the pick's `onAttemptEnded` hook),
 *   or with `enableOobLoadReport` from an out-of-band `StreamCoreMetrics` stream on every subchannel
 *   ({@link watchOrcaOob}, interval `oobReportingPeriod`); then per-call trailers are not read.
 * - Weights per A58 ({@link updateWeight}, {@link currentWeight}): blackout after the first report,
 *   expiry without reports, error penalty. READY picks use a {@link staticStrideScheduler} over the
 *   READY endpoints' weights; it is rebuilt every `weightUpdatePeriod` on `helper.clock` and swapped
 *   into the published picker, and whenever the READY set changes. With no usable weights it is round
 *   robin (a new picker is then O(1), so connecting N endpoints stays O(N)).
 */
export function createWeightedRoundRobinPolicy(helper: ChannelControlHelper): LoadBalancingPolicy {
  const clock = helper.clock;
  const scratch = emptyOrcaLoadReport();
  let config: WeightedRoundRobinConfig = WRR_DEFAULTS;
  let picker: WrrPicker | undefined;
  let pickerEntries: readonly EndpointEntry<Weighted>[] = [];
  let pickerCount = 0;
  let timer: TimerHandle | undefined;
  // A random start, so clients built at the same time do not walk the endpoints in step.
  let sequence = Math.floor(helper.random() * 2 ** 32) >>> 0;
  let closed = false;
  const next = (): number => {
    sequence = (sequence + 1) >>> 0;
    return sequence;
  };

  function weightsNow(entries: readonly EndpointEntry<Weighted>[], count: number): Float64Array {
    const now = clock.now();
    const weights = new Float64Array(count);
    const metrics = helper.metrics;
    if (metrics === undefined) {
      for (let i = 0; i < count; i++) weights[i] = currentWeight((entries[i] as EndpointEntry<Weighted>).data.weight, now, config);
      return weights;
    }
    // gRFC A78: per scheduler update, the endpoints without a usable or with a stale weight, and every weight.
    let notYetUsable = 0;
    let stale = 0;
    for (let i = 0; i < count; i++) {
      const weight = (entries[i] as EndpointEntry<Weighted>).data.weight;
      const usability = weightUsability(weight, now, config);
      if (usability === 'not-yet-usable') notYetUsable++;
      else if (usability === 'stale') stale++;
      const value = currentWeight(weight, now, config);
      weights[i] = value;
      metrics.recordEndpointWeight(value);
    }
    metrics.addCount('grpc.lb.wrr.endpoint_weight_not_yet_usable', notYetUsable);
    metrics.addCount('grpc.lb.wrr.endpoint_weight_stale', stale);
    return weights;
  }

  /** Rebuild `target`'s scheduler from the weights now (O(READY)). */
  function reschedule(target: WrrPicker, entries: readonly EndpointEntry<Weighted>[], count: number): void {
    const weighted = staticStrideScheduler(weightsNow(entries, count), next);
    if (weighted === undefined) helper.metrics?.addCount('grpc.lb.wrr.rr_fallback', 1); // gRFC A78
    target.weighted = weighted !== undefined;
    target.scheduler = weighted ?? (() => next() % count);
  }

  function schedule(): void {
    if (timer !== undefined || closed) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (closed || picker === undefined) return;
      reschedule(picker, pickerEntries, pickerCount);
      schedule();
    }, config.weightUpdatePeriodMs);
  }

  function buildPicker(): WrrPicker {
    const entries = list.ready.view();
    const count = list.ready.size;
    const results = config.enableOobLoadReport ? list.ready.resultsView() : undefined;
    const built: WrrPicker = {
      scheduler: () => next() % count,
      weighted: false,
      pick(args: PickArgs): PickResult {
        let index = built.scheduler();
        const previous = args.previous;
        if (previous !== undefined && count > 1) {
          for (let budget = previous.length; budget > 0 && previous.includes(resultAt(index).subchannel); budget--) {
            index = built.scheduler();
          }
        }
        return resultAt(index);
      },
    };
    const resultAt = (index: number): PickComplete =>
      results !== undefined ? (results[index] as PickComplete) : ((entries[index] as EndpointEntry<Weighted>).data.result as PickComplete);
    // While no weight was usable, stay round robin until the next timer tick: O(1) per newly READY
    // endpoint. Weights only become usable with time (blackout), which the tick covers.
    if (picker === undefined || picker.weighted) reschedule(built, entries, count);
    picker = built;
    pickerEntries = entries;
    pickerCount = count;
    return built;
  }

  function startWatch(data: Weighted, subchannel: Subchannel): void {
    data.watches.set(subchannel, watchOrcaOob(subchannel, config.oobReportingPeriodMs, clock, (report) => {
      updateWeight(data.weight, report, clock.now(), config.errorUtilizationPenalty);
    }));
  }

  const list: EndpointList<Weighted> = new EndpointList<Weighted>({
    helper,
    createData() {
      const data: Weighted = {
        weight: emptyWeight(),
        result: undefined,
        watches: new Map(),
        onEnded: (_code, trailers) => {
          const value = trailers?.get(ORCA_TRAILER)[0];
          if (value instanceof Buffer && decodeOrcaLoadReport(value, scratch)) {
            updateWeight(data.weight, scratch, clock.now(), config.errorUtilizationPenalty);
          }
        },
      };
      return data;
    },
    onEntryState(entry, previous) {
      entry.data.result = hookedResult(entry.data.result, entry.result, entry.data.onEnded);
      if (entry.state === connectivityState.READY && previous !== connectivityState.READY) resetBlackout(entry.data.weight);
    },
    onSubchannelCreated(entry, subchannel) {
      entry.data.watches.set(subchannel, undefined);
      if (config.enableOobLoadReport) startWatch(entry.data, subchannel);
    },
    onSubchannelReleased(entry, subchannel) {
      entry.data.watches.get(subchannel)?.stop();
      entry.data.watches.delete(subchannel);
    },
    buildPicker(state) {
      if (state !== connectivityState.READY) {
        picker = undefined;
        return undefined;
      }
      schedule();
      return buildPicker();
    },
  });

  /** Apply a change of `enableOobLoadReport` or `oobReportingPeriod` to every held subchannel (gRFC A58). */
  function restartWatches(): void {
    for (const entry of list.entries) {
      for (const [subchannel, watch] of entry.data.watches) {
        watch?.stop();
        entry.data.watches.set(subchannel, undefined);
        if (config.enableOobLoadReport) startWatch(entry.data, subchannel);
      }
    }
  }

  return {
    updateEndpoints(endpoints: readonly Endpoint[], parsed: unknown) {
      if (closed) return;
      const nextConfig = (parsed as WeightedRoundRobinConfig | undefined) ?? config;
      const previous = config;
      config = nextConfig;
      if (previous.enableOobLoadReport !== nextConfig.enableOobLoadReport || previous.oobReportingPeriodMs !== nextConfig.oobReportingPeriodMs) {
        restartWatches();
      }
      // gRFC A58: every other parameter takes effect with a new picker on every update.
      list.update(endpoints, nextConfig !== previous);
    },
    resolverError: (error: string) => list.resolverError(error),
    exitIdle: () => list.exitIdle(),
    close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      list.close();
    },
  };
}

/** The `weighted_round_robin` policy factory (gRFC A58). Registered by `src/picker/index.ts`. */
export const weightedRoundRobinPolicy: LoadBalancingPolicyFactory<WeightedRoundRobinConfig> = Object.freeze({
  name: 'weighted_round_robin',
  parseConfig: parseWeightedRoundRobinConfig,
  create: createWeightedRoundRobinPolicy,
});
