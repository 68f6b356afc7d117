import { parseServiceConfigWithWarnings } from '../config/service-config';
import type { ConfigWarning } from '../config/service-config-warnings';
import type { ServiceConfig } from '../config/types';
import { getLoadBalancingPolicyFactory } from '../picker/registry';
import type {
  ChannelControlHelper, ConnectivityState, LbMetricsRecorder, LoadBalancingPolicy, LoadBalancingPolicyFactory, Picker, Subchannel,
} from '../picker/types';
import { addressKey } from '../resolver/address';
import type { Address, Endpoint, Resolver, ResolverFactory, ResolverUpdate, Target } from '../resolver/types';
import type { ResolutionSnapshot } from '../telemetry/snapshot';
import type { NormalizedOptions } from './normalize-options';

/** What the resolving policy needs from its channel. */
export interface ResolvingPolicyHost {
  /** The root policy published a state and picker (`error` explains TRANSIENT_FAILURE). */
  updateState(state: ConnectivityState, picker: Picker, error: string | undefined): void;
  /**
   * The service config in use: called when the first resolver result or error selects it (calls
   * started before then wait for this), and whenever it changes (a resolver's, or back to the default).
   */
  setServiceConfig(config: ServiceConfig): void;
  /** A resolver failure or a rejected update: the last good state stays in use. */
  reportError(error: Error): void;
  /** A resolver's service config, accepted, has fields that change nothing. */
  reportConfigWarnings(warnings: readonly ConfigWarning[]): void;
  /** A new endpoint list is in use (for the `resolution` event). */
  reportResolution(addresses: () => readonly string[]): void;
  /** A subchannel for `address`, shared by address across policies (see `ChannelControlHelper`). */
  acquireSubchannel(address: Address, policyName: string): Subchannel;
  releaseSubchannel(subchannel: Subchannel): void;
  /** Given to every policy's helper (gRFC A78 metrics); `undefined` when the channel records none. */
  readonly lbMetrics: LbMetricsRecorder | undefined;
}

/**
 * The control path between a channel's resolver and its root load-balancing policy, as grpc-js's
 * `resolving-load-balancer.ts` keeps it out of its channel:
 *
 * - the resolver starts at the first `exitIdle()` and is dropped (and recreated) by `enterIdle()`;
 * - the first resolver result or error selects the service config (the resolver's, else the default):
 *   calls started before that wait for it, so a DNS TXT config applies to the channel's first calls;
 * - each resolver update: shape check, service config selection (gRFC A21: an invalid config from the
 *   resolver is rejected whole and the last good one stays; with none and no default, the update acts
 *   as a failed resolution), the `maxEndpoints` bound, then the endpoints go to the policy the config
 *   selects (gRFC A24 `loadBalancingConfig`; `pick_first` by default);
 * - a policy change closes the old policy only after the new one took its subchannels, so connections
 *   both use stay open (the subchannel pool is refcounted);
 * - a resolver error keeps the last good endpoint list; only a policy that never had one goes
 *   TRANSIENT_FAILURE;
 * - a policy's re-resolution request goes to the resolver (which rate-limits it).
 */
export class ResolvingPolicy {
  private resolver: Resolver;
  private started = false;
  private closed = false;
  private config: ServiceConfig;
  /** The host has been told the config in use (the first result or error is in). */
  private configSelected = false;
  /** A valid config is in use: the application's, or one a resolver sent (gRFC A21). */
  private hasGoodConfig: boolean;
  /** The last service config a resolver sent (as a comparable string), and why it was rejected. */
  private lastResolverConfig: string | undefined;
  private lastResolverConfigError: Error | undefined;
  private policy: LoadBalancingPolicy | undefined;
  private policyFactory: LoadBalancingPolicyFactory | undefined;
  private endpoints: readonly Endpoint[] | undefined;
  // ---- for snapshots only (telemetry): set on each update, read by `resolution()`
  private resolvedAt: number | undefined;
  private lastError: { message: string; at: number } | undefined;

  /**
   * @param defaultConfig the application's `serviceConfig` option, parsed; `hasDefault` false when it
   *   gave none (then `defaultConfig` is empty and an invalid resolver config fails the channel, A21).
   */
  constructor(
    private readonly target: Target,
    private readonly factory: ResolverFactory,
    private readonly options: NormalizedOptions,
    private readonly defaultConfig: ServiceConfig,
    private readonly hasDefault: boolean,
    private readonly host: ResolvingPolicyHost,
  ) {
    this.config = defaultConfig;
    this.hasGoodConfig = hasDefault;
    this.resolver = this.createResolver();
  }

  /** Start resolving (first call), or ask the policy to reconnect. */
  exitIdle(): void {
    if (this.closed) return;
    if (!this.started) {
      this.started = true;
      this.resolver.requestResolution();
      return;
    }
    this.policy?.exitIdle();
  }

  /** A root policy exists (it publishes the connectivity state); false before the first resolver result. */
  get hasPolicy(): boolean {
    return this.policy !== undefined;
  }

  /** gRFC A62 idle: drop the resolver, the policy and its subchannels; the next `exitIdle()` starts over. */
  enterIdle(): void {
    this.resolver.close();
    this.resolver = this.createResolver();
    this.started = false;
    this.closePolicy();
  }

  /** The service config in use (the resolver's, the default, or empty). */
  get serviceConfig(): ServiceConfig {
    return this.config;
  }

  /** The last resolver result and error, for `channel.snapshot()`. O(endpoints). */
  resolution(): ResolutionSnapshot {
    const fromResolver = this.config !== this.defaultConfig;
    return {
      at: this.resolvedAt,
      endpoints: (this.endpoints ?? []).map((endpoint) => endpoint.addresses.map(addressKey)),
      configSource: fromResolver ? 'resolver' : this.hasDefault ? 'default' : 'none',
      lastError: this.lastError === undefined ? undefined : { ...this.lastError },
    };
  }

  /** Stop the resolver and the policy for good. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.resolver.close();
    this.closePolicy();
  }

  private closePolicy(): void {
    this.policy?.close();
    this.policy = undefined;
    this.policyFactory = undefined;
    this.endpoints = undefined;
  }

  /** A resolver for the target; creating it validates the target (throws ConfigError) and does no I/O. */
  private createResolver(): Resolver {
    // `let`: a resolver breaking the no-I/O-in-create rule may call back before `create` returns.
    // eslint-disable-next-line prefer-const
    let resolver: Resolver | undefined;
    // Results of a resolver the channel has dropped (idle, closed) are ignored.
    const live = (): boolean => resolver === this.resolver && !this.closed;
    resolver = this.factory.create(this.target, {
      onUpdate: (update) => {
        if (live()) this.onResolverUpdate(update);
      },
      onError: (error) => {
        if (live()) this.onResolverError(error);
      },
    }, {
      clock: this.options.clock,
      refreshIntervalMs: this.options.dnsRefreshIntervalMs,
      minResolutionIntervalMs: this.options.minResolutionIntervalMs,
      serviceConfigLookup: this.options.serviceConfigLookup,
      options: this.options.resolverOptions,
      random: this.options.random,
    });
    return resolver;
  }

  private onResolverUpdate(update: ResolverUpdate): void {
    const malformed = malformedUpdate(update);
    if (malformed !== undefined) {
      // A resolver bug must not break the channel: treat it as a failed resolution (last good list stays).
      this.onResolverError(new Error(`resolver returned a malformed update: ${malformed}`));
      return;
    }
    const configError = this.applyServiceConfig(update);
    // Every host call may run event listeners, and a listener may close the channel.
    if (this.closed) return;
    if (configError !== undefined && !this.hasGoodConfig) {
      // gRFC A21: no valid config yet and no default from the application: act as if resolution failed.
      this.onResolverError(new Error(`invalid service config from the resolver: ${configError.message}`));
      return;
    }
    let endpoints = update.endpoints;
    const max = this.options.maxEndpoints;
    if (endpoints.length > max) {
      this.host.reportError(new Error(`resolver returned ${endpoints.length} endpoints; using the first ${max} (options.maxEndpoints)`));
      if (this.closed) return;
      endpoints = endpoints.slice(0, max);
    }
    this.endpoints = endpoints;
    this.resolvedAt = this.options.clock.now();
    this.host.reportResolution(() => endpoints.flatMap((e) => e.addresses.map(addressKey)));
    if (this.closed) return;
    this.updatePolicy((policy) => policy.updateEndpoints(endpoints, this.config.loadBalancing?.config));
  }

  private onResolverError(error: Error): void {
    this.lastError = { message: error.message, at: this.options.clock.now() };
    this.host.reportError(error);
    if (this.closed) return;
    if (!this.configSelected) {
      // No config from the resolver: the calls that waited for it go on with the default.
      this.configSelected = true;
      this.host.setServiceConfig(this.config);
      if (this.closed) return;
    }
    const reason = `name resolution failed: ${error.message}`;
    if (this.endpoints === undefined) this.updatePolicy((policy) => policy.resolverError(reason));
  }

  /**
   * gRFC A21: an invalid config from the resolver is rejected whole and the last good one stays.
   * @returns the error of a rejected config, if any (already reported).
   */
  private applyServiceConfig(update: ResolverUpdate): Error | undefined {
    let next = this.config;
    let rejected: Error | undefined;
    // Resolvers repeat the same config on every refresh: parse (and report) only what changed.
    const raw = update.serviceConfigError ? `error:${update.serviceConfigError.message}` : rawConfigKey(update.serviceConfig);
    const unchanged = raw !== undefined && raw === this.lastResolverConfig;
    if (unchanged) {
      rejected = this.lastResolverConfigError;
    } else if (update.serviceConfigError) {
      rejected = update.serviceConfigError;
    } else if (update.serviceConfig === null) {
      next = this.defaultConfig;
    } else if (update.serviceConfig !== undefined) {
      try {
        const parsed = parseServiceConfigWithWarnings(update.serviceConfig, {
          maxAttemptsCap: this.options.maxAttemptsCap,
          strict: this.options.strict,
        });
        next = parsed.config;
        if (parsed.warnings.length > 0) this.host.reportConfigWarnings(parsed.warnings);
      } catch (error) {
        rejected = error as Error;
      }
    }
    if (raw !== undefined) {
      this.lastResolverConfig = raw;
      this.lastResolverConfigError = rejected;
    }
    if (rejected !== undefined) {
      if (!unchanged) {
        this.lastError = { message: rejected.message, at: this.options.clock.now() };
        this.host.reportError(rejected);
      }
      // gRFC A21: with a good config (the default or an earlier one) the update goes on with it.
      if (this.hasGoodConfig) this.selectConfig(this.config);
      return rejected;
    }
    this.hasGoodConfig = true;
    this.selectConfig(next);
    return undefined;
  }

  /** Make `config` the one in use; tell the host if it changed or was never told. */
  private selectConfig(config: ServiceConfig): void {
    if (config === this.config && this.configSelected) return;
    this.config = config;
    this.configSelected = true;
    this.host.setServiceConfig(config);
  }

  /**
   * Hand an update to the policy the config selects. When the policy changes, the old one is closed
   * only after the new one has taken its subchannels, so connections to addresses both use stay open.
   */
  private updatePolicy(update: (policy: LoadBalancingPolicy) => void): void {
    const factory = this.config.loadBalancing?.factory ?? getLoadBalancingPolicyFactory('pick_first')!;
    if (this.policy !== undefined && this.policyFactory === factory) {
      update(this.policy);
      return;
    }
    const old = this.policy;
    this.policyFactory = factory;
    const policy: LoadBalancingPolicy = factory.create(this.createHelper(() => this.policy === policy, factory.name));
    this.policy = policy;
    update(policy);
    old?.close();
  }

  /** The helper of one policy instance; `current()` is false once another policy replaced it. */
  private createHelper(current: () => boolean, policyName: string): ChannelControlHelper {
    const host = this.host;
    return {
      createSubchannel: (address) => host.acquireSubchannel(address, policyName),
      releaseSubchannel: (subchannel) => host.releaseSubchannel(subchannel),
      updateState: (state, picker, error) => {
        if (this.closed || !current()) return;
        host.updateState(state, picker, error);
      },
      requestReresolution: () => {
        if (!this.closed && current()) this.resolver.requestResolution();
      },
      clock: this.options.clock,
      random: this.options.random,
      connectionAttemptDelayMs: this.options.connectionAttemptDelayMs,
      metrics: host.lbMetrics,
    };
  }
}

/** Why a resolver's update cannot be used, or `undefined` if its shape is right (checked once per update). */
function malformedUpdate(update: ResolverUpdate): string | undefined {
  if (typeof update !== 'object' || update === null) return 'not an object';
  if (!Array.isArray(update.endpoints)) return '`endpoints` is not an array';
  for (let i = 0; i < update.endpoints.length; i++) {
    const endpoint = update.endpoints[i] as Partial<Endpoint> | null;
    if (typeof endpoint !== 'object' || endpoint === null || !Array.isArray(endpoint.addresses)) {
      return `endpoints[${i}].addresses is not an array`;
    }
    for (let j = 0; j < endpoint.addresses.length; j++) {
      const address = endpoint.addresses[j] as unknown;
      if (typeof address !== 'object' || address === null) return `endpoints[${i}].addresses[${j}] is not an object`;
    }
  }
  return undefined;
}

/** A string that is equal for equal resolver configs; `undefined` when the resolver sent none. */
function rawConfigKey(config: unknown): string | undefined {
  if (config === undefined) return undefined;
  if (typeof config === 'string') return `json:${config}`;
  try {
    return `object:${JSON.stringify(config)}`;
  } catch {
    return undefined;
  }
}
