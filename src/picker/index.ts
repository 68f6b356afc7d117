/**
 * `src/picker`: load-balancing policies, their pickers, and the policy registry (gRFC A24 names).
 *
 * Owns: pick_first (gRFC A62, A61), round_robin, least_request (A48), weighted_round_robin (A58 with
 * ORCA, A51), outlier_detection (A50), ring_hash (A42, A76) and switchyard.peak_ewma, composed over
 * endpoints by `EndpointList` (one pick_first child per endpoint, A61). Pure over the `Subchannel` and
 * `ChannelControlHelper` interfaces of `types.ts`: no I/O of its own except the ORCA out-of-band stream
 * it opens through `Subchannel.createStream`.
 * May import: `resolver` types and address helpers, `clock`, `errors`, and the JSON readers of `json/`;
 * never `config`, never a layer (`channel`, `call`, `subchannel`, `transport`).
 *
 * Importing this module registers every built-in policy, as a side effect:
 * ```ts
 * import './picker';                                      // the channel does this once
 * const factory = getLoadBalancingPolicyFactory('least_request');
 * const config = factory.parseConfig({ choiceCount: 3 }, 'loadBalancingConfig[0].least_request');
 * const policy = factory.create(helper);                 // helper: the channel's ChannelControlHelper
 * policy.updateEndpoints(endpoints, config);             // publishes through helper.updateState
 * ```
 */
import { registerLoadBalancingPolicy } from './registry';
import { leastRequestPolicy } from './least-request';
import { outlierDetectionPolicy } from './outlier-detection';
import { peakEwmaPolicy } from './peak-ewma';
import { pickFirstPolicy } from './pick-first';
import { ringHashPolicy } from './ring-hash';
import { roundRobinPolicy } from './round-robin';
import { weightedRoundRobinPolicy } from './weighted-round-robin';

/** Every built-in policy factory, in registration order. */
const BUILT_IN_POLICIES = [
  pickFirstPolicy,
  roundRobinPolicy,
  leastRequestPolicy,
  // grpc-go and grpc-java register A48's policy under this name.
  Object.freeze({ ...leastRequestPolicy, name: 'least_request_experimental' }),
  weightedRoundRobinPolicy,
  outlierDetectionPolicy,
  ringHashPolicy,
  peakEwmaPolicy,
] as const;

for (const factory of BUILT_IN_POLICIES) registerLoadBalancingPolicy(factory);

export {
  leastRequestPolicy, outlierDetectionPolicy, peakEwmaPolicy, pickFirstPolicy, ringHashPolicy, roundRobinPolicy,
  weightedRoundRobinPolicy,
};
