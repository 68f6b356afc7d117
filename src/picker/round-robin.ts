import { connectivityState } from '@grpc/grpc-js';
import { expectObject } from '../json/path';
import { EndpointList, endpointListPolicy } from './endpoint-list';
import { roundRobinPicker } from './pickers';
import type { ChannelControlHelper, LoadBalancingPolicy, LoadBalancingPolicyFactory } from './types';

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

/**
 * Create a `round_robin` policy instance (grpc `doc/load-balancing.md`, composed over endpoints as
 * gRFC A61 and grpc-go's `roundrobin` over `endpointsharding` do).
 *
 * - One `pick_first` child per endpoint ({@link EndpointList}): an endpoint with several addresses gets
 *   one share, connected with Happy Eyeballs; endpoints kept across updates keep their connections, and
 *   an update that changes nothing keeps the current picker (no new random start).
 * - Every endpoint is kept connected: a child that goes IDLE is reconnected at once.
 * - State: the gRFC A48/A58 aggregation over sticky per-endpoint states. READY: a
 *   {@link roundRobinPicker} over the READY endpoints from a random start (`helper.random`).
 *   CONNECTING: picks queue. TRANSIENT_FAILURE: picks fail UNAVAILABLE naming the last connection error.
 * - Empty list, or a resolver error before any list: TRANSIENT_FAILURE with that reason; later resolver
 *   errors are ignored.
 */
export function createRoundRobinPolicy(helper: ChannelControlHelper): LoadBalancingPolicy {
  const list: EndpointList<undefined> = new EndpointList<undefined>({
    helper,
    createData: () => undefined,
    buildPicker(state) {
      if (state !== connectivityState.READY) return undefined;
      const count = list.ready.size;
      return roundRobinPicker(list.ready.resultsView(), Math.min(count - 1, Math.floor(helper.random() * count)), count);
    },
  });
  return endpointListPolicy(list);
}

/** The `round_robin` policy factory (grpc `doc/load-balancing.md`). Registered by `src/picker/index.ts`. */
export const roundRobinPolicy: LoadBalancingPolicyFactory<RoundRobinConfig> = Object.freeze({
  name: 'round_robin',
  parseConfig: parseRoundRobinConfig,
  create: createRoundRobinPolicy,
});
