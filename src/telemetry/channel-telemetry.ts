import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import type { LbCounterName, LbMetricsRecorder } from '../picker/types';
import { CallTelemetry } from './call-trace';
import { createChannelLog, type ChannelLog } from './debug-log';
import { ATTR, SCOPE_NAME, SCOPE_VERSION, createCallInstruments, createChannelInstruments, createLbInstruments, type ChannelInstruments } from './instruments';
import type { CallObserver } from './observer';
import { resolveProviders, type MeterProviderLike, type TracerProviderLike } from './otel';
import { STATE_NAMES, SubchannelRegistry } from './subchannels';

/**
 * The channel events telemetry listens to (a structural view of the channel's `events` emitter, so
 * this shared module imports no layer). Payload fields as in `SwitchyardEvents`.
 */
export interface ObservedEvents {
  on(event: 'resolution', listener: (e: { readonly addresses: readonly string[] }) => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  on(event: 'throttled', listener: (e: { readonly method: string; readonly kind: string; readonly tokens: number }) => void): unknown;
  on(event: 'backoff', listener: (e: { readonly method: string; readonly nextAttempt: number; readonly delayMs: number; readonly pushback: boolean }) => void): unknown;
  on(event: 'connectivity', listener: (e: { readonly previous: number; readonly state: number; readonly error?: string }) => void): unknown;
  on(event: 'warning', listener: (e: { readonly kind: string; readonly path?: string; readonly message: string }) => void): unknown;
}

/** What a channel gives its telemetry. */
export interface ChannelTelemetryOptions {
  readonly channelId: number;
  readonly target: string;
  readonly meterProvider: MeterProviderLike | false | undefined;
  readonly tracerProvider: TracerProviderLike | false | undefined;
  readonly events: ObservedEvents;
  /** The retry throttle's tokens now, or `undefined` without retry throttling (read at collection). */
  readonly tokens: () => number | undefined;
  /** The channel's clock, ms since the epoch. */
  readonly now: () => number;
}

/**
 * Everything a channel records about itself, built once at channel creation: the call observer
 * (metrics, spans, `call`/`retry` log lines), the policies' metrics recorder (gRFC A78), the subchannel
 * registry (snapshot and gRFC A94 metrics), and listeners on the channel's own events for the resolver,
 * balancer, retry and transport log lines and switchyard's resolver and throttling counters. Parts
 * with nothing to record are `undefined`, so an unobserved channel costs nothing per call.
 */
export class ChannelTelemetry {
  /** Given to every call; `undefined` when no call-level signal is on. */
  readonly calls: CallObserver | undefined;
  /** Given to every policy through its helper; `undefined` without metrics. */
  readonly lbMetrics: LbMetricsRecorder | undefined;
  readonly subchannels: SubchannelRegistry;
  readonly log: ChannelLog | undefined;

  constructor(options: ChannelTelemetryOptions) {
    const { channelId, target, events } = options;
    const log = createChannelLog(channelId, target);
    this.log = log;
    const providers = resolveProviders(options.meterProvider, options.tracerProvider);
    const meter = providers?.meterProvider?.getMeter(SCOPE_NAME, SCOPE_VERSION);
    const tracer = providers?.tracerProvider?.getTracer(SCOPE_NAME, SCOPE_VERSION);
    const channelInstruments = meter === undefined ? undefined : createChannelInstruments(meter);
    this.subchannels = new SubchannelRegistry(target, options.now, channelInstruments, log);
    const callLevel = meter !== undefined || tracer !== undefined || log?.call === true || log?.retry === true;
    this.calls = callLevel
      ? new CallTelemetry({
        target,
        metrics: meter === undefined ? undefined : createCallInstruments(meter),
        tracing: tracer === undefined ? undefined : { otel: providers!.otel, tracer },
        log,
      })
      : undefined;
    this.lbMetrics = meter === undefined ? undefined : createLbRecorder(meter, target);
    if (channelInstruments !== undefined) recordChannelMetrics(channelInstruments, target, events, options.tokens);
    if (log !== undefined) logChannelEvents(log, events);
  }
}

function createLbRecorder(meter: Meter, target: string): LbMetricsRecorder {
  const { counters, weights } = createLbInstruments(meter);
  const attributes: Attributes = Object.freeze({ [ATTR.target]: target });
  return {
    addCount(name: LbCounterName, value: number): void {
      counters[name].add(value, attributes);
    },
    recordEndpointWeight(weight: number): void {
      weights.record(weight, attributes);
    },
  };
}

/** switchyard's own channel metrics, from the channel's events (each fires at most once per retry or update). */
function recordChannelMetrics(instruments: ChannelInstruments, target: string, events: ObservedEvents, tokens: () => number | undefined): void {
  const attributes: Attributes = Object.freeze({ [ATTR.target]: target });
  events.on('resolution', () => instruments.resolverUpdates.add(1, attributes));
  events.on('error', () => instruments.resolverErrors.add(1, attributes));
  events.on('throttled', (e) => {
    instruments.throttled.add(1, { [ATTR.method]: e.method.replace(/^\//, ''), [ATTR.target]: target, [ATTR.kind]: e.kind });
  });
  instruments.tokens.addCallback((result: ObservableResult) => {
    const now = tokens();
    if (now !== undefined) result.observe(now, attributes);
  });
}

/** The debug log's resolver, balancer, retry and transport lines, from the channel's events. */
function logChannelEvents(log: ChannelLog, events: ObservedEvents): void {
  if (log.resolver) {
    events.on('resolution', (e) => {
      const shown = e.addresses.slice(0, 16).join(', ');
      log.write('resolver', 'I', `${e.addresses.length} address(es): ${shown}${e.addresses.length > 16 ? ', …' : ''}`);
    });
    events.on('error', (e) => log.write('resolver', 'E', e.message));
  }
  if (log.balancer) {
    events.on('connectivity', (e) => {
      const severity = e.state === 3 ? 'I' : 'D';
      log.write('balancer', severity, `${STATE_NAMES[e.previous]} -> ${STATE_NAMES[e.state]}${e.error ? `: ${e.error}` : ''}`);
    });
  }
  if (log.retry) {
    events.on('backoff', (e) => {
      log.write('retry', 'D', `${e.method}: attempt ${e.nextAttempt} in ${Math.round(e.delayMs)} ms${e.pushback ? ' (server pushback)' : ''}`);
    });
    events.on('throttled', (e) => log.write('retry', 'I', `${e.method}: ${e.kind} refused by retry throttling (${e.tokens} tokens)`));
  }
  events.on('warning', (e) => {
    const category = e.kind === 'transport' ? 'transport' : 'resolver';
    if (log[category]) log.write(category, 'I', `warning: ${e.message}`);
  });
}
