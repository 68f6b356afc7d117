import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { Clock, TimerHandle } from '../clock';
import { ConfigError } from '../errors';
import { parseServiceConfigWithWarnings } from '../config/service-config';
import type { ConfigWarning } from '../config/service-config-warnings';
import { createMethodConfigLookup } from '../config/method-lookup';
import type { MethodConfig, RetryThrottlingConfig, ServiceConfig } from '../config/types';
import { QUEUE_PICKER } from '../picker/pickers';
import type { ConnectivityState, PickArgs, Picker, PickResult, Subchannel } from '../picker/types';
import { parseTarget } from '../resolver/target';
import type { Address } from '../resolver/types';
import { getResolverFactory, registeredSchemes } from '../resolver/registry';
import { RetryThrottle } from '../retry/throttle';
import { createRetryBufferBudget, type RetryBufferBudget } from '../retry/retry-buffer';
import { deadlineFromGrpc } from '../deadline/deadline';
import { ResilientCall } from '../call/resilient-call';
import type { CallHost, HostedCall } from '../call/call-host';
import { ChannelCounters } from '../call/counters';
import type { ChannelStats, SwitchyardEvents } from '../call/events';
import type { ParentCall } from '../call/inheritance';
import { SubchannelPool } from '../subchannel/pool';
import { ChannelSubchannel } from '../subchannel/subchannel';
import { HealthCheckedSubchannel } from '../subchannel/health-check';
import type { Transport, TransportStream } from '../transport/types';
import { grpcJsTransport } from '../transport/grpc-js/transport';
import { ChannelTelemetry } from '../telemetry/channel-telemetry';
import type { CallObserver } from '../telemetry/observer';
import type { ChannelSnapshot } from '../telemetry/snapshot';
import type { SubchannelCallCounts } from '../telemetry/subchannels';
import { STATE_NAMES } from '../telemetry/subchannels';
import { serviceConfigToJson } from '../config/service-config-json';
import { ConnectivityWatchers } from './connectivity-watchers';
import { normalizeOptions, type NormalizedOptions } from './normalize-options';
import type { SwitchyardChannelOptions } from './options';
import { Liveness } from './liveness';
import { ResolvingPolicy } from './resolving-policy';
import '../resolver';
import '../picker';

const { connectivityState: State } = grpc;

/**
 * The method lookup before the first resolver result or error: `null` makes a call wait for the service
 * config the resolver returns (gRPC: the config selector is set by the first resolution), instead of
 * starting with the default.
 */
const PENDING_LOOKUP = (): null => null;

const EMPTY_CONFIG: ServiceConfig = Object.freeze({
  loadBalancing: undefined,
  methodConfigs: new Map(),
  retryThrottling: undefined,
  healthCheckServiceName: undefined,
});

/** After `close()`: every pick, even a wait-for-ready call's or a retry's, ends the call. */
const CLOSED_PICK: PickResult = Object.freeze({
  type: 'drop',
  status: Object.freeze({ code: grpc.status.UNAVAILABLE, details: 'Channel closed' }),
});

let nextChannelId = 1;

/**
 * The channel behind the public `SwitchyardChannel` facade (grpc-js splits `channel.ts` from
 * `internal-channel.ts` the same way): the connectivity state and picker in use, the calls waiting for
 * a picker, the service config's method lookup and retry throttle, counters and events, the subchannel
 * pool, and gRFC A62's idle timeout. The resolver and the root policy live in {@link ResolvingPolicy}.
 * It is the `CallHost` of every call it creates.
 */
export class InternalChannel implements CallHost {
  readonly events = new EventEmitter<SwitchyardEvents>();
  readonly options: NormalizedOptions;
  readonly counters = new ChannelCounters();
  readonly retryBudget: RetryBufferBudget;
  readonly clock: Clock;
  readonly random: () => number;
  throttle: RetryThrottle | undefined;
  readonly target: string;
  readonly channelzRef: { kind: 'channel'; id: number; name: string };
  /** CallHost: `undefined` unless the channel records per-call telemetry. */
  readonly callObserver: CallObserver | undefined;

  private readonly resolving: ResolvingPolicy;
  private readonly pool: SubchannelPool<ChannelSubchannel>;
  private readonly newSubchannel: (address: Address) => ChannelSubchannel;
  private readonly watchers: ConnectivityWatchers;
  /** Calls waiting for the next picker, or (before the first resolver result) for the service config. */
  private readonly queued = new Set<HostedCall>();
  /** Every started, unfinished call: `close()` ends those that wait. */
  private readonly calls = new Set<HostedCall>();
  private readonly liveness = new Liveness();
  private readonly telemetry: ChannelTelemetry;
  private healthCheckServiceName: string | undefined;
  /** `PENDING_LOOKUP` until the first resolver result (or error) selects the service config. */
  private lookup: (method: string) => MethodConfig | undefined | null = PENDING_LOOKUP;
  private readonly defaultConfig: ServiceConfig;
  private picker: Picker = QUEUE_PICKER;
  private state: ConnectivityState = State.IDLE;
  private idleTimer: TimerHandle | undefined;
  private callsAtIdleCheck = -1;
  private callNumber = 0;

  /**
   * @param transport how subchannels connect (test seam; default the grpc-js transport).
   * @throws ConfigError for a malformed target, an unknown scheme, an invalid option or service config.
   */
  constructor(target: string, credentials: grpc.ChannelCredentials, options?: SwitchyardChannelOptions, transport: Transport = grpcJsTransport) {
    if (typeof target !== 'string') throw new ConfigError('target', 'must be a string', target);
    if (!(credentials instanceof grpc.ChannelCredentials)) {
      throw new ConfigError('credentials', 'must be a grpc.ChannelCredentials (e.g. grpc.credentials.createInsecure())');
    }
    this.options = normalizeOptions(options);
    this.clock = this.options.clock;
    this.random = this.options.random;
    this.target = target;
    const parsed = parseTarget(target);
    const factory = getResolverFactory(parsed.scheme);
    if (!factory) {
      throw new ConfigError('target', `unknown scheme "${parsed.scheme}" (registered: ${registeredSchemes().join(', ')})`, target);
    }
    const hasDefault = options?.serviceConfig !== undefined;
    const parsedConfig = hasDefault
      ? parseServiceConfigWithWarnings(options.serviceConfig, { maxAttemptsCap: this.options.maxAttemptsCap, strict: this.options.strict })
      : undefined;
    const defaultConfig = parsedConfig?.config ?? EMPTY_CONFIG;
    const warnings = parsedConfig?.warnings ?? [];
    // On the next tick, so listeners attached right after createChannel() hear them.
    if (warnings.length > 0) process.nextTick(() => this.reportConfigWarnings(warnings));
    this.defaultConfig = defaultConfig;
    this.throttle = makeThrottle(defaultConfig.retryThrottling, undefined);
    this.healthCheckServiceName = defaultConfig.healthCheckServiceName;
    const override = this.options.channelOptions['grpc.default_authority'];
    const authority = typeof override === 'string' ? override : factory.defaultAuthority(parsed);
    this.retryBudget = createRetryBufferBudget(this.options.perCallRetryBufferBytes, this.options.perChannelRetryBufferBytes);
    this.watchers = new ConnectivityWatchers(this.clock);
    this.channelzRef = { kind: 'channel', id: nextChannelId++, name: target };
    // Telemetry (src/telemetry): metrics, spans, debug log, snapshot data; parts that record nothing are undefined.
    const telemetry = new ChannelTelemetry({
      channelId: this.channelzRef.id, target, meterProvider: this.options.meterProvider, tracerProvider: this.options.tracerProvider,
      events: this.events, tokens: () => this.throttle?.tokens, now: () => this.clock.now(),
    });
    this.telemetry = telemetry;
    this.callObserver = telemetry.calls;
    const { channelOptions, backoff } = this.options;
    this.newSubchannel = (address) => new ChannelSubchannel({
      address, transport, credentials, channelOptions, authority, clock: this.clock, random: this.random, backoff,
    });
    this.pool = new SubchannelPool((address) => {
      const subchannel = this.newSubchannel(address);
      telemetry.subchannels.add(subchannel);
      return subchannel;
    });
    this.resolving = new ResolvingPolicy(parsed, factory, this.options, defaultConfig, hasDefault, {
      updateState: (state, picker, error) => {
        if (this.state === State.SHUTDOWN) return;
        this.picker = picker;
        this.setState(state, error);
        this.drainQueue();
      },
      setServiceConfig: (config) => {
        if (this.state === State.SHUTDOWN) return;
        this.throttle = makeThrottle(config.retryThrottling, this.throttle);
        const first = this.lookup === PENDING_LOOKUP;
        this.lookup = createMethodConfigLookup(config);
        this.healthCheckServiceName = config.healthCheckServiceName;
        // The calls that waited for the first resolution start now, with this config.
        if (first) this.drainQueue();
      },
      reportError: (error) => this.emitError(error),
      reportConfigWarnings: (warnings) => this.reportConfigWarnings(warnings),
      reportResolution: (addresses) => {
        if (this.events.listenerCount('resolution') > 0) this.events.emit('resolution', { addresses: addresses() });
      },
      acquireSubchannel: (address, policyName) => this.acquireSubchannel(address, policyName),
      releaseSubchannel: (subchannel) => this.releaseSubchannel(subchannel),
      lbMetrics: telemetry.lbMetrics,
    });
  }

  /**
   * See `SwitchyardChannel.close`. Safe anywhere, including inside an event listener or a policy's
   * callback: the channel is marked shut down first, so nothing close() sets off (and nothing running
   * when it was called) starts new work; every waiting call ends with UNAVAILABLE on the next tick.
   */
  close(): void {
    const previous = this.state;
    if (previous === State.SHUTDOWN) return;
    this.state = State.SHUTDOWN;
    this.picker = QUEUE_PICKER;
    // A call started from now on (created before close) picks CLOSED_PICK instead of waiting for config.
    if (this.lookup === PENDING_LOOKUP) this.lookup = createMethodConfigLookup(this.defaultConfig);
    if (this.idleTimer !== undefined) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.resolving.close();
    this.pool.close();
    this.liveness.close();
    this.queued.clear();
    for (const call of [...this.calls]) call.onChannelClosed();
    this.watchers.notify(State.SHUTDOWN);
    this.watchers.clear();
    if (this.events.listenerCount('connectivity') > 0) this.events.emit('connectivity', { previous, state: State.SHUTDOWN, error: undefined });
  }

  getConnectivityState(tryToConnect: boolean): ConnectivityState {
    if (tryToConnect) this.exitIdle();
    return this.state;
  }

  watchConnectivityState(currentState: ConnectivityState, deadline: Date | number, callback: (error?: Error) => void): void {
    if (this.state === State.SHUTDOWN) throw new Error('Channel has been shut down');
    if (currentState !== this.state) {
      process.nextTick(callback);
      return;
    }
    // As grpc-js: a watch with a deadline keeps the process alive until it fires; one without does not.
    if (deadlineFromGrpc(deadline) === Infinity) {
      this.watchers.add(currentState, deadline, callback);
      return;
    }
    const liveness = this.liveness;
    liveness.hold();
    this.watchers.add(currentState, deadline, (error) => {
      liveness.release();
      callback(error);
    });
  }

  createCall(method: string, deadline: grpc.Deadline, host: string | null | undefined, parentCall: ParentCall, propagateFlags: number | null | undefined): TransportStream {
    if (this.state === State.SHUTDOWN) throw new Error('Channel has been shut down');
    return new ResilientCall(this, method, deadline, host ?? undefined, parentCall, propagateFlags ?? grpc.propagate.DEFAULTS, ++this.callNumber);
  }

  stats(): ChannelStats {
    return this.counters.snapshot(this.throttle);
  }

  /** See `SwitchyardChannel.snapshot`. O(endpoints + subchannels). */
  snapshot(): ChannelSnapshot {
    const config = this.resolving.serviceConfig;
    const { calls, succeeded, failed, attempts, retries, hedges, transparentRetries, throttled, deadlineExceeded } = this.counters;
    const throttle = this.throttle;
    return {
      id: this.channelzRef.id,
      target: this.target,
      state: STATE_NAMES[this.state] ?? String(this.state),
      resolution: this.resolving.resolution(),
      serviceConfig: serviceConfigToJson(config),
      policy: { name: config.loadBalancing?.factory.name ?? 'pick_first', config: config.loadBalancing?.config ?? {} },
      subchannels: this.telemetry.subchannels.snapshot(),
      calls: { started: calls, succeeded, failed, attempts, retries, hedges, transparentRetries, throttled, deadlineExceeded },
      throttle: throttle === undefined ? undefined : { tokens: throttle.tokens, maxTokens: throttle.maxTokens, tokenRatio: throttle.tokenRatio },
    };
  }

  // ---- CallHost ---------------------------------------------------------------------------------

  methodConfig(method: string): MethodConfig | undefined | null {
    return this.lookup(method);
  }

  awaitConfig(call: HostedCall): void {
    if (this.state === State.SHUTDOWN) {
      call.onChannelClosed();
      return;
    }
    // Parked before leaving IDLE: a resolver answering synchronously finds it.
    this.queued.add(call);
    this.exitIdle();
  }

  pick(args: PickArgs): PickResult {
    if (this.state === State.IDLE) this.exitIdle();
    // Also after exitIdle(): its events may have run a listener that closed the channel.
    if (this.state === State.SHUTDOWN) return CLOSED_PICK;
    return this.picker.pick(args);
  }

  queue(call: HostedCall): void {
    // Nothing drains the queue of a closed channel: the call ends instead.
    if (this.state === State.SHUTDOWN) call.onChannelClosed();
    else this.queued.add(call);
  }

  unqueue(call: HostedCall): void {
    this.queued.delete(call);
  }

  onCallStart(call: HostedCall): void {
    this.calls.add(call);
    this.liveness.hold();
  }

  onCallEnd(call: HostedCall): void {
    this.calls.delete(call);
    this.liveness.release();
  }

  failureReason(details: string): string {
    return `${this.target}: ${details}`;
  }

  subchannelCalls(key: string): SubchannelCallCounts | undefined {
    return this.telemetry.subchannels.counts(key);
  }

  onThrottled(method: string, kind: 'retry' | 'hedge'): void {
    this.counters.throttled++;
    const events = this.events;
    if (events.listenerCount('throttled') > 0) events.emit('throttled', { method, kind, tokens: this.throttle?.tokens ?? 0 });
  }

  onBackoff(method: string, nextAttempt: number, delayMs: number, pushback: boolean): void {
    const events = this.events;
    if (events.listenerCount('backoff') > 0) events.emit('backoff', { method, nextAttempt, delayMs, pushback });
  }

  // ---- control path -----------------------------------------------------------------------------

  private acquireSubchannel(address: Address, policyName: string): Subchannel {
    if (this.state === State.SHUTDOWN) {
      // A policy still running when the channel closed (close() from a listener): a subchannel that
      // never connects, so the policy needs no special case.
      const closed = this.newSubchannel(address);
      closed.shutdown();
      return closed;
    }
    const pooled = this.pool.acquire(address);
    const serviceName = this.healthCheckServiceName;
    // gRFC A17: health checking per policy instance on the shared connection; pick_first never checks.
    if (serviceName === undefined || policyName === 'pick_first') return pooled;
    return new HealthCheckedSubchannel({ inner: pooled, serviceName, clock: this.clock, random: this.random, backoff: this.options.backoff });
  }

  private releaseSubchannel(subchannel: Subchannel): void {
    if (subchannel instanceof HealthCheckedSubchannel) {
      subchannel.dispose();
      this.pool.release(subchannel.inner as ChannelSubchannel);
    } else {
      this.pool.release(subchannel as ChannelSubchannel);
    }
  }

  private exitIdle(): void {
    if (this.state !== State.IDLE) return;
    this.armIdleTimer();
    // Once a policy exists it publishes its own state; until then the channel is resolving.
    if (!this.resolving.hasPolicy) this.setState(State.CONNECTING, undefined);
    this.resolving.exitIdle();
  }

  /**
   * gRFC A62's idle timeout: with no call started and none in flight for `idleTimeoutMs` (checked once
   * per period, so idling happens between one and two periods after the last call), the channel drops
   * its resolver, policy and connections and goes IDLE; the next call starts over.
   */
  private armIdleTimer(): void {
    if (this.options.idleTimeoutMs === 0 || this.idleTimer !== undefined) return;
    this.idleTimer = this.clock.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.state === State.SHUTDOWN || (this.state === State.IDLE && !this.resolving.hasPolicy)) return;
      const { calls, succeeded, failed } = this.counters;
      if (calls === this.callsAtIdleCheck && calls === succeeded + failed) {
        this.resolving.enterIdle();
        this.picker = QUEUE_PICKER;
        this.setState(State.IDLE, undefined);
        return;
      }
      this.callsAtIdleCheck = calls;
      this.armIdleTimer();
    }, this.options.idleTimeoutMs);
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

  private reportConfigWarnings(warnings: readonly ConfigWarning[]): void {
    if (this.events.listenerCount('warning') === 0) return;
    for (const { path, rule } of warnings) this.events.emit('warning', { kind: 'service-config', path, message: `${path}: ${rule}` });
  }

  private emitError(error: Error): void {
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
  }
}

function makeThrottle(config: RetryThrottlingConfig | undefined, previous: RetryThrottle | undefined): RetryThrottle | undefined {
  if (!config) return undefined;
  // Keep the bucket when an update leaves the parameters unchanged; otherwise carry its fill level over.
  if (previous && previous.maxTokens === config.maxTokens && previous.tokenRatio === config.tokenRatio) return previous;
  return new RetryThrottle(config, previous);
}
