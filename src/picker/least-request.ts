import { connectivityState } from '@grpc/grpc-js';
import { EndpointList, endpointListPolicy } from './endpoint-list';
import { PolicyConfigReader } from './policy-config';
import { hookedResult, powerOfChoicesPicker } from './power-of-choices';
import type { AttemptEndedHook, ChannelControlHelper, LoadBalancingPolicy, LoadBalancingPolicyFactory, PickComplete } from './types';

/** `least_request`'s parsed config (gRFC A48 `LeastRequestLoadBalancingConfig`). */
export interface LeastRequestConfig {
  /** Endpoints sampled per pick, in [2, 10]. */
  readonly choiceCount: number;
}

const MAX_CHOICE_COUNT = 10;

/**
 * Validate `least_request`'s config (gRFC A48): `{ "choiceCount"?: uint32 }` (or `choice_count`),
 * default 2; values above 10 are treated as 10.
 * @throws ConfigError at `path` for a non-object, at `path.choiceCount` for a non-integer or a value < 2.
 */
export function parseLeastRequestConfig(json: unknown, path: string): LeastRequestConfig {
  const reader = new PolicyConfigReader(json, path);
  const choiceCount = reader.number('choiceCount', 2, { integer: true, min: 2, max: 4_294_967_295 });
  return Object.freeze({ choiceCount: Math.min(choiceCount, MAX_CHOICE_COUNT) });
}

/** One endpoint's outstanding-request counter (gRFC A48 `active_requests`), local to the policy instance. */
interface Outstanding {
  inFlight: number;
  /** The endpoint's result with {@link Outstanding.onEnded} attached; rebuilt when its subchannel changes. */
  result: PickComplete | undefined;
  readonly onEnded: AttemptEndedHook;
}

function outstanding(): Outstanding {
  const data: Outstanding = {
    inFlight: 0,
    result: undefined,
    onEnded: () => {
      if (data.inFlight > 0) data.inFlight--;
    },
  };
  return data;
}

/**
 * Create a `least_request` policy instance (gRFC A48, Envoy's "all weights equal" least request):
 * round_robin's connection management and state aggregation ({@link EndpointList}, one pick_first
 * child per endpoint, gRFC A61), with a picker that samples `choiceCount` READY endpoints and sends the
 * attempt to the one with the fewest calls in flight. The counter of an endpoint goes up when it is
 * picked and down when the attempt ends, whatever its status (the pick's `onAttemptEnded` hook); it
 * belongs to the endpoint, so it survives a reconnect to another of its addresses.
 */
export function createLeastRequestPolicy(helper: ChannelControlHelper): LoadBalancingPolicy {
  let config: LeastRequestConfig = { choiceCount: 2 };
  const list: EndpointList<Outstanding> = new EndpointList<Outstanding>({
    helper,
    createData: outstanding,
    onEntryState(entry) {
      entry.data.result = hookedResult(entry.data.result, entry.result, entry.data.onEnded);
    },
    buildPicker(state) {
      if (state !== connectivityState.READY) return undefined;
      return powerOfChoicesPicker(list.ready.view(), list.ready.size, config.choiceCount, helper.random,
        (data) => data.inFlight, (data) => data.inFlight++);
    },
  });
  return endpointListPolicy(list, (parsed) => {
    config = parsed as LeastRequestConfig;
  });
}

/**
 * The `least_request` policy factory (gRFC A48). Registered by `src/picker/index.ts` under
 * `least_request` and, as grpc-go and grpc-java name it, `least_request_experimental`.
 */
export const leastRequestPolicy: LoadBalancingPolicyFactory<LeastRequestConfig> = Object.freeze({
  name: 'least_request',
  parseConfig: parseLeastRequestConfig,
  create: createLeastRequestPolicy,
});
