import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../errors';
import type { TimerHandle } from '../clock';
import { parseTarget } from '../resolver/target';
import { getResolverFactory, registeredSchemes } from '../resolver/registry';
import { addressKey } from '../resolver/address';
import type { Endpoint, Resolver, ResolverFactory, ResolverUpdate, Target } from '../resolver/types';
import { getLoadBalancingPolicyFactory } from '../picker/registry';
import type {
  ChannelControlHelper, ConnectivityState, LoadBalancingPolicy, LoadBalancingPolicyFactory, Picker, PickResult,
} from '../picker/types';
import { QUEUE_PICKER } from '../picker/pickers';
import { parseServiceConfig } from '../config/service-config';
import { createMethodConfigLookup } from '../config/method-lookup';
import type { MethodConfig, RetryThrottlingConfig, ServiceConfig } from '../config/types';
import { RetryThrottle } from '../retry/throttle';
import { createRetryBufferBudget, type RetryBufferBudget } from '../retry/retry-buffer';
import { SubchannelPool } from '../subchannel/pool';
import { ChannelSubchannel } from '../subchannel/subchannel';
import { HealthCheckedSubchannel } from '../subchannel/health-check';
import { ConnectivityWatchers } from './connectivity-watchers';
import { normalizeOptions, type NormalizedOptions } from './normalize-options';
import type { SwitchyardChannelOptions } from './options';
import type { ChannelStats, SwitchyardEvents } from '../call/events';
import { ResilientCall, type CallHost, type ParentCall } from '../call/resilient-call';
import { ChannelCounters } from '../call/counters';
import '../resolver';
import '../picker';

const { connectivityState: State } = grpc;
type GrpcCall = ReturnType<grpc.ChannelInterface['createCall']>;

const EMPTY_CONFIG: ServiceConfig = Object.freeze({
  loadBalancing: undefined,
  methodConfigs: new Map(),
  retryThrottling: undefined,
  healthCheckServiceName: undefined,
});

let nextChannelId = 1;

/** After `close()`: every pick, even a wait-for-ready call's or a retry's, ends the call. */
const CLOSED_PICK: PickResult = Object.freeze({
  type: 'drop',
  status: Object.freeze({ code: grpc.status.UNAVAILABLE, details: 'Channel closed' }),
});

/**
 * A grpc-js `Channel` that resolves its target itself, balances calls across endpoints with a
 * load-balancing policy and applies the service config (gRFC A6 retries, hedging, throttling,
 * timeouts) to every call. Create it with {@link createChannel}.
 */
export class SwitchyardChannel implements grpc.ChannelInterface, CallHost {
  /**
   * Visibility: `attempt`, `backoff`, `throttled`, `commit`, `connectivity`, `resolution` and `error`
   * events (see {@link SwitchyardEvents}). Emitted only when someone listens.
   */
  readonly events = new EventEmitter<SwitchyardEvents>();
  /** @internal */ readonly options: NormalizedOptions;
  /** @internal */ readonly counters = new ChannelCounters();
  /** @internal */ readonly retryBudget: RetryBufferBudget;
  /** @internal */ throttle: RetryThrottle | undefined;
  /** @internal */ readonly targetString: string;

  private readonly target: Target;
  private readonly authority: string;
  private readonly resolverFactory: ResolverFactory;
  private resolver: Resolver;
  private readonly pool: SubchannelPool<ChannelSubchannel>;
  private readonly watchers: ConnectivityWatchers;
  private readonly defaultConfig: ServiceConfig;
  private readonly channelzRef: { kind: 'channel'; id: number; name: string };
  private readonly queued = new Set<ResilientCall>();
  private config: ServiceConfig;
  /** A valid config is in use: the application's, or one a resolver sent (gRFC A21). */
  private hasGoodConfig: boolean;
  /** The last service config a resolver sent (as a comparable string), and why it was rejected. */
  private lastResolverConfig: string | undefined;
  private lastResolverConfigError: Error | undefined;
  private lookup: (method: string) => MethodConfig | undefined;
  private policy: LoadBalancingPolicy | undefined;
  private policyFactory: LoadBalancingPolicyFactory | undefined;
  private endpoints: readonly Endpoint[] | undefined;
  private picker: Picker = QUEUE_PICKER;
  private state: ConnectivityState = State.IDLE;
  private lastError: string | undefined;
  private resolverStarted = false;
  private idleTimer: TimerHandle | undefined;
  private callsAtIdleCheck = -1;
  private callNumber = 0;

  constructor(target: string, credentials: grpc.ChannelCredentials, options?: SwitchyardChannelOptions) {
    if (typeof target !== 'string') throw new ConfigError('target', 'must be a string', target);
    if (!(credentials instanceof grpc.ChannelCredentials)) {
      throw new ConfigError('credentials', 'must be a grpc.ChannelCredentials (e.g. grpc.credentials.createInsecure())');
    }
    this.options = normalizeOptions(options);
    this.targetString = target;
    this.target = parseTarget(target);
    const factory = getResolverFactory(this.target.scheme);
    if (!factory) {
      throw new ConfigError('target', `unknown scheme "${this.target.scheme}" (registered: ${registeredSchemes().join(', ')})`, target);
    }
    this.defaultConfig = options?.serviceConfig === undefined
      ? EMPTY_CONFIG
      : parseServiceConfig(options.serviceConfig, { maxAttemptsCap: this.options.maxAttemptsCap });
    this.config = this.defaultConfig;
    this.hasGoodConfig = options?.serviceConfig !== undefined;
    this.lookup = createMethodConfigLookup(this.config);
    this.throttle = makeThrottle(this.config.retryThrottling, undefined);
    const override = this.options.channelOptions['grpc.default_authority'];
    this.authority = typeof override === 'string' ? override : factory.defaultAuthority(this.target);
    this.retryBudget = createRetryBufferBudget(this.options.perCallRetryBufferBytes, this.options.perChannelRetryBufferBytes);
    this.watchers = new ConnectivityWatchers(this.options.clock);
    this.channelzRef = { kind: 'channel', id: nextChannelId++, name: target };
    this.pool = new SubchannelPool((address) => new ChannelSubchannel({
      address,
      credentials,
      channelOptions: this.options.channelOptions as grpc.ChannelOptions,
      authority: this.authority,
      clock: this.options.clock,
      random: this.options.random,
      backoff: this.options.backoff,
    }));
    this.resolverFactory = factory;
    this.resolver = this.createResolver();
  }

  /** A resolver for the target; creating it validates the target (throws ConfigError) and does no I/O. */
  private createResolver(): Resolver {
    let resolver: Resolver | undefined;
    // Results of a resolver the channel has dropped (idle, closed) are ignored.
    const live = (): boolean => resolver === this.resolver && this.state !== State.SHUTDOWN;
    resolver = this.resolverFactory.create(this.target, {
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

  // ---- grpc-js Channel interface -------------------------------------------------------------

  /** Close every connection, timer and resolver this channel owns. Calls queued for a pick fail UNAVAILABLE. */
  close(): void {
    if (this.state === State.SHUTDOWN) return;
    if (this.idleTimer !== undefined) this.options.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.resolver.close();
    this.policy?.close();
    this.policy = undefined;
    this.pool.close();
    this.setState(State.SHUTDOWN, undefined);
    this.watchers.clear();
    const queued = [...this.queued];
    this.queued.clear();
    for (const call of queued) call.cancelWithStatus(grpc.status.UNAVAILABLE, 'Channel closed before call started');
  }

  /** The target string passed to {@link createChannel}. */
  getTarget(): string {
    return this.targetString;
  }

  /** The aggregated connectivity state; with `tryToConnect`, an IDLE channel starts resolving and connecting. */
  getConnectivityState(tryToConnect: boolean): ConnectivityState {
    if (tryToConnect) this.exitIdle();
    return this.state;
  }

  /**
   * Call `callback` once the state differs from `currentState`, or with an error at `deadline`
   * (absolute: a `Date` or ms since epoch). Same contract as grpc-js.
   * @throws Error if the channel is shut down.
   */
  watchConnectivityState(currentState: ConnectivityState, deadline: Date | number, callback: (error?: Error) => void): void {
    if (this.state === State.SHUTDOWN) throw new Error('Channel has been shut down');
    if (currentState !== this.state) {
      process.nextTick(callback);
      return;
    }
    this.watchers.add(currentState, deadline, callback);
  }

  /** A channelz reference (switchyard does not register with channelz; the id is unique per process). */
  getChannelzRef(): ReturnType<grpc.ChannelInterface['getChannelzRef']> {
    return this.channelzRef as unknown as ReturnType<grpc.ChannelInterface['getChannelzRef']>;
  }

  /**
   * Create a call; used by grpc-js's `Client`.
   * @param method the full method path, `/package.Service/Method`.
   * @param deadline absolute: a `Date` or ms since epoch, `Infinity` for none.
   * @param host an `:authority` override for this call, or null for the channel's.
   * @param parentCall a server call whose deadline and cancellation propagate per `propagateFlags`
   *   (grpc-js `propagate` bits; default `propagate.DEFAULTS`).
   * @throws Error if the channel is shut down.
   */
  createCall(
    method: string,
    deadline: grpc.Deadline,
    host: string | null | undefined,
    parentCall: ParentCall,
    propagateFlags: number | null | undefined,
  ): GrpcCall {
    if (this.state === State.SHUTDOWN) throw new Error('Channel has been shut down');
    return new ResilientCall(this, method, deadline, host ?? undefined, parentCall, propagateFlags ?? grpc.propagate.DEFAULTS,
      ++this.callNumber) as unknown as GrpcCall;
  }

  // ---- switchyard additions ------------------------------------------------------------------

  /** A snapshot of this channel's counters (see {@link ChannelStats}). O(1), allocates one object. */
  stats(): ChannelStats {
    return this.counters.snapshot(this.throttle);
  }

  // ---- CallHost: what a call needs from its channel (internal) ----------------------------------

  /** @internal */
  methodConfig(method: string): MethodConfig | undefined {
    return this.lookup(method);
  }

  /** @internal The current picker's answer; leaves IDLE first. */
  pick(call: ResilientCall): PickResult {
    if (this.state === State.SHUTDOWN) return CLOSED_PICK;
    if (this.state === State.IDLE) this.exitIdle();
    return this.picker.pick(call);
  }

  /** @internal Park a call until the next picker. */
  queue(call: ResilientCall): void {
    this.queued.add(call);
  }

  /** @internal */
  unqueue(call: ResilientCall): void {
    this.queued.delete(call);
  }

  /** @internal Why calls fail fast now: the last connection or resolver error. */
  failureReason(details: string): string {
    return `${this.targetString}: ${details}`;
  }

  // ---- control path ---------------------------------------------------------------------------

  private exitIdle(): void {
    if (this.state !== State.IDLE) return;
    this.armIdleTimer();
    if (!this.resolverStarted) {
      this.resolverStarted = true;
      this.setState(State.CONNECTING, undefined);
      this.resolver.requestResolution();
      return;
    }
    if (this.policy) this.policy.exitIdle();
    else this.setState(State.CONNECTING, undefined);
  }

  /**
   * gRFC A62's idle timeout: with no call started and none in flight for `idleTimeoutMs` (checked once
   * per period, so idling happens between one and two periods after the last call), the channel drops
   * its resolver, policy and connections and goes IDLE; the next call starts over.
   */
  private armIdleTimer(): void {
    if (this.options.idleTimeoutMs === 0 || this.idleTimer !== undefined) return;
    this.idleTimer = this.options.clock.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.state === State.SHUTDOWN || this.state === State.IDLE && this.policy === undefined) return;
      const { calls, succeeded, failed } = this.counters;
      if (calls === this.callsAtIdleCheck && calls === succeeded + failed) {
        this.enterIdle();
        return;
      }
      this.callsAtIdleCheck = calls;
      this.armIdleTimer();
    }, this.options.idleTimeoutMs);
  }

  private enterIdle(): void {
    this.resolver.close();
    this.resolver = this.createResolver();
    this.resolverStarted = false;
    this.policy?.close();
    this.policy = undefined;
    this.policyFactory = undefined;
    this.endpoints = undefined;
    this.picker = QUEUE_PICKER;
    this.setState(State.IDLE, undefined);
  }

  private onResolverUpdate(update: ResolverUpdate): void {
    const malformed = malformedUpdate(update);
    if (malformed !== undefined) {
      // A resolver bug must not break the channel: treat it as a failed resolution (last good list stays).
      this.onResolverError(new Error(`resolver returned a malformed update: ${malformed}`));
      return;
    }
    const configError = this.applyServiceConfig(update);
    if (configError !== undefined && !this.hasGoodConfig) {
      // gRFC A21: no valid config yet and no default from the application: act as if resolution failed.
      this.onResolverError(new Error(`invalid service config from the resolver: ${configError.message}`));
      return;
    }
    let endpoints = update.endpoints;
    if (endpoints.length > this.options.maxEndpoints) {
      this.emitError(new Error(`resolver returned ${endpoints.length} endpoints; using the first ${this.options.maxEndpoints} (options.maxEndpoints)`));
      endpoints = endpoints.slice(0, this.options.maxEndpoints);
    }
    this.endpoints = endpoints;
    if (this.events.listenerCount('resolution') > 0) {
      this.events.emit('resolution', { addresses: endpoints.flatMap((e) => e.addresses.map(addressKey)) });
    }
    this.updatePolicy((policy) => policy.updateEndpoints(endpoints, this.config.loadBalancing?.config));
  }

  private onResolverError(error: Error): void {
    this.emitError(error);
    this.lastError = `name resolution failed: ${error.message}`;
    // The last good endpoint list stays; only a policy that never had one goes TRANSIENT_FAILURE.
    const reason = this.lastError;
    if (this.endpoints === undefined) this.updatePolicy((policy) => policy.resolverError(reason));
  }

  /**
   * gRFC A21: an invalid config from the resolver is rejected whole and the last good one stays.
   * @returns the error of a rejected config, if any (already emitted as an `error` event).
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
        next = parseServiceConfig(update.serviceConfig, { maxAttemptsCap: this.options.maxAttemptsCap });
      } catch (error) {
        rejected = error as Error;
      }
    }
    if (raw !== undefined) {
      this.lastResolverConfig = raw;
      this.lastResolverConfigError = rejected;
    }
    if (rejected !== undefined) {
      if (!unchanged) this.emitError(rejected);
      return rejected;
    }
    this.hasGoodConfig = true;
    if (next !== this.config) {
      this.throttle = makeThrottle(next.retryThrottling, this.throttle);
      this.config = next;
      this.lookup = createMethodConfigLookup(next);
    }
    return undefined;
  }

  /**
   * Hand `endpoints` (or a resolver error) to the policy the config selects. When the policy changes,
   * the old one is closed only after the new one has taken its subchannels, so connections to
   * addresses both use stay open (the pool is refcounted).
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
    return {
      createSubchannel: (address) => {
        const pooled = this.pool.acquire(address);
        const serviceName = this.config.healthCheckServiceName;
        // gRFC A17: health checking per policy instance on the shared connection; pick_first never checks.
        if (serviceName === undefined || policyName === 'pick_first') return pooled;
        return new HealthCheckedSubchannel({
          inner: pooled, serviceName, clock: this.options.clock, random: this.options.random, backoff: this.options.backoff,
        });
      },
      releaseSubchannel: (subchannel) => {
        if (subchannel instanceof HealthCheckedSubchannel) {
          subchannel.dispose();
          this.pool.release(subchannel.inner as ChannelSubchannel);
        } else {
          this.pool.release(subchannel as ChannelSubchannel);
        }
      },
      updateState: (state, picker, error) => {
        if (this.state === State.SHUTDOWN || !current()) return;
        this.picker = picker;
        if (error !== undefined) this.lastError = error;
        this.setState(state, error);
        this.drainQueue();
      },
      requestReresolution: () => {
        if (this.state !== State.SHUTDOWN && current()) this.resolver.requestResolution();
      },
      clock: this.options.clock,
      random: this.options.random,
      connectionAttemptDelayMs: this.options.connectionAttemptDelayMs,
    };
  }

  private drainQueue(): void {
    if (this.queued.size === 0) return;
    const calls = [...this.queued];
    this.queued.clear();
    for (const call of calls) call.onPickerChanged();
  }

  private setState(state: ConnectivityState, error: string | undefined): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.watchers.notify(state);
    if (this.events.listenerCount('connectivity') > 0) this.events.emit('connectivity', { previous, state, error });
  }

  private emitError(error: Error): void {
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
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

function makeThrottle(config: RetryThrottlingConfig | undefined, previous: RetryThrottle | undefined): RetryThrottle | undefined {
  if (!config) return undefined;
  // Keep the bucket when an update leaves the parameters unchanged; otherwise carry its fill level over.
  if (previous && previous.maxTokens === config.maxTokens && previous.tokenRatio === config.tokenRatio) return previous;
  return new RetryThrottle(config, previous);
}

/**
 * Create a switchyard channel for `target`, to pass to any grpc-js client as
 * `new Client(target, credentials, { channelOverride: channel })`.
 *
 * @param target a gRPC target per `doc/naming.md`: `dns:///host:port` (the default scheme, so
 *   `host:port` works too), `dns://DNS_ADDR:PORT/host:port`, `ipv4:a:p,b:p`, `ipv6:[a]:p`, `unix:/path`,
 *   or any scheme registered with `registerResolver`.
 * @param credentials grpc-js channel credentials used for every connection; TLS verifies the server
 *   against the target's host name, not the resolved address.
 * @param options see {@link SwitchyardChannelOptions}.
 * @throws ConfigError for a malformed target, an unknown scheme, an invalid option or an invalid
 *   service config; the message names the field path and the rule broken.
 */
export function createChannel(target: string, credentials: grpc.ChannelCredentials, options?: SwitchyardChannelOptions): SwitchyardChannel {
  return new SwitchyardChannel(target, credentials, options);
}
