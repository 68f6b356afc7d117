/**
 * The built-in load-balancing policies. Importing this module registers `pick_first` (the default,
 * gRFC A62 + A61) and `round_robin` (grpc `doc/load-balancing.md`) with
 * `registerLoadBalancingPolicy` (gRFC A24 `loadBalancingConfig` names), as a side effect.
 */
import { registerLoadBalancingPolicy } from './registry';
import { pickFirstPolicy } from './pick-first';
import { roundRobinPolicy } from './round-robin';

registerLoadBalancingPolicy(pickFirstPolicy);
registerLoadBalancingPolicy(roundRobinPolicy);
