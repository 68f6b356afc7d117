/**
 * A custom load-balancing policy: `weighted_random` (`npx tsx examples/custom-policy.ts` runs a demo).
 *
 * Each endpoint gets a weight, from its resolver attribute `weight` (a positive number, e.g. set by the
 * file resolver in `examples/custom-resolver.ts`) or else the config's `defaultWeight`; every attempt
 * goes to a READY endpoint at random in proportion to its weight. Select it in the service config:
 *
 * ```json
 * { "loadBalancingConfig": [{ "weighted_random": { "defaultWeight": 1 } }] }
 * ```
 *
 * It follows the policy rules of `docs/extending.md`: subchannels come from and go back to the channel
 * (`createSubchannel` / `releaseSubchannel`, never leaked on update or close); a pick is O(1) with no
 * allocation, served by an immutable picker rebuilt only when the READY set changes (Vose's alias
 * method makes weighted choice O(1)); randomness comes from `helper.random`. It needs no timer; a policy
 * that does must use `helper.clock`.
 */
import * as grpc from '@grpc/grpc-js';
import {
  ConfigError,
  QUEUE_PICKER,
  completePick,
  failPicker,
  registerLoadBalancingPolicy,
  type ChannelControlHelper,
  type ConnectivityState,
  type Endpoint,
  type LoadBalancingPolicy,
  type LoadBalancingPolicyFactory,
  type PickComplete,
  type Subchannel,
  type SubchannelStateListener,
} from 'switchyard';
import { weightedPicker } from './weighted-picker';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE } = grpc.connectivityState;

/** `weighted_random`'s parsed config. */
export interface WeightedRandomConfig {
  /** Weight of an endpoint without a valid `weight` attribute. Positive; default 1. */
  readonly defaultWeight: number;
}

/** One endpoint's connection, as the policy tracks it. */
interface Child {
  readonly subchannel: Subchannel;
  readonly listener: SubchannelStateListener;
  /** Preallocated so a pick returns it without allocating. */
  readonly result: PickComplete;
  weight: number;
  state: ConnectivityState;
  /** Failed to connect since it was last READY: counts as failed until READY again (sticky). */
  failed: boolean;
}

function weightOf(endpoint: Endpoint, config: WeightedRandomConfig): number {
  const w = endpoint.attributes?.weight;
  return typeof w === 'number' && Number.isFinite(w) && w > 0 ? w : config.defaultWeight;
}

/** Creates one `weighted_random` instance for a channel. */
function createWeightedRandom(helper: ChannelControlHelper): LoadBalancingPolicy {
  let children = new Map<string, Child>();
  let closed = false;
  let lastError = 'no endpoints yet';

  function publish(): void {
    if (closed) return;
    const all = [...children.values()];
    const ready = all.filter((c) => c.state === READY);
    if (ready.length > 0) return helper.updateState(READY, weightedPicker(ready, helper.random));
    // Every child failed since it was last READY (none at all counts too): fail fast, naming why.
    if (all.every((c) => c.failed)) return helper.updateState(TRANSIENT_FAILURE, failPicker(lastError), lastError);
    helper.updateState(CONNECTING, QUEUE_PICKER);
  }

  function onStateChange(child: Child, next: ConnectivityState): void {
    const wasReady = child.state === READY;
    child.state = next;
    if (next === READY) child.failed = false;
    if (next === TRANSIENT_FAILURE) {
      child.failed = true;
      lastError = child.subchannel.getLastError() ?? `${child.subchannel.key}: connection failed`;
    }
    // Keep every endpoint connected: reconnect as soon as a connection is lost or a backoff ends.
    if (next === IDLE) child.subchannel.connect();
    if (next === TRANSIENT_FAILURE || (wasReady && next !== READY)) helper.requestReresolution();
    // Only a change of the READY set, or a failure while nothing is READY, needs a new picker.
    if (wasReady !== (next === READY)) publish();
    else if (next === TRANSIENT_FAILURE && ![...children.values()].some((c) => c.state === READY)) publish();
  }

  function release(child: Child): void {
    child.subchannel.removeStateListener(child.listener);
    helper.releaseSubchannel(child.subchannel);
  }

  return {
    updateEndpoints(endpoints, config) {
      if (closed) return;
      const parsed = config as WeightedRandomConfig;
      const next = new Map<string, Child>();
      for (const endpoint of endpoints) {
        // One connection per endpoint, to its first address (a production policy would run
        // pick_first over all of them, gRFC A61).
        const address = endpoint.addresses[0];
        if (address === undefined) continue;
        // Acquire before releasing the old list, so a kept address keeps its connection.
        const subchannel = helper.createSubchannel(address);
        const existing = children.get(subchannel.key) ?? next.get(subchannel.key);
        if (existing !== undefined) {
          helper.releaseSubchannel(subchannel); // already held: give the extra reference back
          existing.weight = weightOf(endpoint, parsed);
          next.set(subchannel.key, existing);
          continue;
        }
        const child: Child = {
          subchannel,
          listener: (_s, _previous, state) => onStateChange(child, state),
          result: completePick(subchannel),
          weight: weightOf(endpoint, parsed),
          state: subchannel.getState(),
          failed: false,
        };
        subchannel.addStateListener(child.listener);
        next.set(subchannel.key, child);
        subchannel.connect();
      }
      for (const [key, child] of children) if (!next.has(key)) release(child);
      children = next;
      if (children.size === 0) lastError = 'resolver returned no endpoints';
      publish();
    },
    resolverError(error) {
      lastError = error;
      if (children.size === 0) publish();
    },
    exitIdle() {
      for (const child of children.values()) if (child.state === IDLE) child.subchannel.connect();
    },
    close() {
      closed = true;
      for (const child of children.values()) release(child);
      children.clear();
    },
  };
}

/**
 * The `weighted_random` policy factory. Register it once with `registerLoadBalancingPolicy`
 * ({@link registerWeightedRandom}) before creating channels whose service config names it.
 */
export const weightedRandomFactory: LoadBalancingPolicyFactory<WeightedRandomConfig> = {
  name: 'weighted_random',
  /**
   * @throws ConfigError at `path` when the config is not an object, at `path.defaultWeight` when it is
   *   not a positive finite number.
   */
  parseConfig(json, path) {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(path, 'must be an object', json);
    const defaultWeight = (json as { defaultWeight?: unknown }).defaultWeight ?? 1;
    if (typeof defaultWeight !== 'number' || !Number.isFinite(defaultWeight) || defaultWeight <= 0) {
      throw new ConfigError(`${path}.defaultWeight`, 'must be a positive number', defaultWeight);
    }
    return Object.freeze({ defaultWeight });
  },
  create: createWeightedRandom,
};

/** Registers {@link weightedRandomFactory} under `weighted_random`. Idempotent. */
export function registerWeightedRandom(): void {
  registerLoadBalancingPolicy(weightedRandomFactory);
}

/** Demo: three in-process echo servers weighted 1 : 2 : 5 through the `file` resolver example. */
async function main(): Promise<void> {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { createChannel } = await import('switchyard');
  const { EchoClient } = await import('./backend/echo-proto');
  const { startEchoServer } = await import('./backend/echo-server');
  const { registerFileResolver } = await import('./custom-resolver');
  registerWeightedRandom();
  registerFileResolver();
  const servers = await Promise.all(['a', 'b', 'c'].map((id) => startEchoServer({ id })));
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-policy-'));
  const file = join(dir, 'echo.json');
  const weights = [1, 2, 5];
  writeFileSync(file, JSON.stringify({ endpoints: servers.map((s, i) => ({ addr: s.address, weight: weights[i] })) }));
  const credentials = grpc.credentials.createInsecure();
  const serviceConfig = { loadBalancingConfig: [{ weighted_random: {} }] };
  const channel = createChannel(`file://${file}`, credentials, { serviceConfig });
  const client = new EchoClient('echo', credentials, { channelOverride: channel });
  const counts = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const backend = await new Promise<string>((resolve, reject) =>
      client.Unary({ message: 'hi' }, new grpc.Metadata(), {}, (error, reply) => (error ? reject(error) : resolve(reply!.backend))),
    );
    counts.set(backend, (counts.get(backend) ?? 0) + 1);
  }
  servers.forEach((s, i) => console.log(`${s.id} (weight ${weights[i]}): ${counts.get(s.id) ?? 0} of 400 calls`));
  client.close();
  channel.close();
  await Promise.all(servers.map((s) => s.stop(1_000)));
  rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
