import type { Counter, Histogram, Meter, ObservableGauge, UpDownCounter } from '@opentelemetry/api';
import type { LbCounterName } from '../picker/types';

/** The instrumentation scope name every switchyard meter and tracer uses. */
export const SCOPE_NAME = 'switchyard';
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const SCOPE_VERSION = (require('../../package.json') as { version: string }).version;

/** gRFC A66 "Units": default latency buckets in seconds. */
const LATENCY_BUCKETS = [
  0, 0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.013,
  0.016, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5, 10,
  20, 50, 100,
];
/** gRFC A66: default size buckets in bytes. */
const SIZE_BUCKETS = [
  0, 1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296,
];
/** gRFC A66: default count buckets. */
const COUNT_BUCKETS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

/** Attribute (label) keys, as gRFC A66 / A78 / A94 name them. */
export const ATTR = Object.freeze({
  method: 'grpc.method',
  target: 'grpc.target',
  status: 'grpc.status',
  disconnectError: 'grpc.disconnect_error',
  kind: 'switchyard.attempt_kind',
});

/**
 * The per-call instruments: gRFC A66 (client per-attempt and per-call) and gRFC A96 (retries), plus
 * switchyard's retry throttling counter. Created once per channel from its meter.
 */
export interface CallInstruments {
  /** A66 `grpc.client.attempt.started` ({attempt}; method, target). */
  readonly attemptStarted: Counter;
  /** A66 `grpc.client.attempt.duration` (s; method, target, status). */
  readonly attemptDuration: Histogram;
  /** A66 `grpc.client.attempt.sent_total_compressed_message_size` (By; method, target, status). */
  readonly attemptSent: Histogram;
  /** A66 `grpc.client.attempt.rcvd_total_compressed_message_size` (By; method, target, status). */
  readonly attemptReceived: Histogram;
  /** A66 `grpc.client.call.duration` (s; method, target, status). */
  readonly callDuration: Histogram;
  /** A96 `grpc.client.call.retries` ({retry}; method, target), not recorded for a call without retries. */
  readonly callRetries: Histogram;
  /** A96 `grpc.client.call.transparent_retries` ({transparent_retry}; method, target). */
  readonly callTransparentRetries: Histogram;
  /** A96 `grpc.client.call.hedges` ({hedge}; method, target). */
  readonly callHedges: Histogram;
  /** A96 `grpc.client.call.retry_delay` (s; method, target): time with no attempt in flight. */
  readonly callRetryDelay: Histogram;
}

/** Create the per-call instruments (see {@link CallInstruments}). */
export function createCallInstruments(meter: Meter): CallInstruments {
  const latency = { unit: 's', advice: { explicitBucketBoundaries: LATENCY_BUCKETS } };
  const size = { unit: 'By', advice: { explicitBucketBoundaries: SIZE_BUCKETS } };
  const count = (unit: string): { unit: string; advice: { explicitBucketBoundaries: number[] } } => ({
    unit, advice: { explicitBucketBoundaries: COUNT_BUCKETS },
  });
  return {
    attemptStarted: meter.createCounter('grpc.client.attempt.started', {
      unit: '{attempt}', description: 'Number of client call attempts started, including those that have not completed.',
    }),
    attemptDuration: meter.createHistogram('grpc.client.attempt.duration', {
      ...latency, description: 'End-to-end time taken to complete a client call attempt.',
    }),
    attemptSent: meter.createHistogram('grpc.client.attempt.sent_total_compressed_message_size', {
      ...size, description: 'Serialized bytes sent across all request messages per call attempt (see docs/observability.md).',
    }),
    attemptReceived: meter.createHistogram('grpc.client.attempt.rcvd_total_compressed_message_size', {
      ...size, description: 'Serialized bytes received across all response messages per call attempt (see docs/observability.md).',
    }),
    callDuration: meter.createHistogram('grpc.client.call.duration', {
      ...latency, description: 'Time taken by the switchyard channel to complete a call, all attempts included.',
    }),
    callRetries: meter.createHistogram('grpc.client.call.retries', {
      ...count('{retry}'), description: 'Number of retries during a client call; calls without retries are not recorded.',
    }),
    callTransparentRetries: meter.createHistogram('grpc.client.call.transparent_retries', {
      ...count('{transparent_retry}'),
      description: 'Number of transparent retries during a client call; calls without any are not recorded.',
    }),
    callHedges: meter.createHistogram('grpc.client.call.hedges', {
      ...count('{hedge}'), description: 'Number of hedges during a client call; calls without hedges are not recorded.',
    }),
    callRetryDelay: meter.createHistogram('grpc.client.call.retry_delay', {
      ...latency, description: 'Total time during a client call while no attempt was in flight.',
    }),
  };
}

/** Channel-level instruments: switchyard's own, and the subchannel instruments of gRFC A94. */
export interface ChannelInstruments {
  /** `switchyard.client.retry_throttled` ({attempt}; method, target, kind): retries/hedges refused by A6 throttling. */
  readonly throttled: Counter;
  /** `switchyard.client.retry_throttle.tokens` ({token}; target): the A6 token bucket now. */
  readonly tokens: ObservableGauge;
  /** `switchyard.resolver.updates` ({update}; target): endpoint lists the channel accepted from its resolver. */
  readonly resolverUpdates: Counter;
  /** `switchyard.resolver.errors` ({error}; target): resolver failures and rejected resolver service configs. */
  readonly resolverErrors: Counter;
  /** A94 `grpc.subchannel.connection_attempts_succeeded` ({attempt}; target). */
  readonly connectionsSucceeded: Counter;
  /** A94 `grpc.subchannel.connection_attempts_failed` ({attempt}; target). */
  readonly connectionsFailed: Counter;
  /** A94 `grpc.subchannel.disconnections` ({disconnection}; target, disconnect_error). */
  readonly disconnections: Counter;
  /** A94 `grpc.subchannel.open_connections` ({connection}; target). */
  readonly openConnections: UpDownCounter;
}

/** Create the channel-level instruments (see {@link ChannelInstruments}). */
export function createChannelInstruments(meter: Meter): ChannelInstruments {
  return {
    throttled: meter.createCounter('switchyard.client.retry_throttled', {
      unit: '{attempt}', description: 'Retries and hedges refused by retry throttling (gRFC A6).',
    }),
    tokens: meter.createObservableGauge('switchyard.client.retry_throttle.tokens', {
      unit: '{token}', description: 'Tokens in the retry throttling bucket (gRFC A6) of a channel.',
    }),
    resolverUpdates: meter.createCounter('switchyard.resolver.updates', {
      unit: '{update}', description: 'Endpoint lists accepted from the resolver.',
    }),
    resolverErrors: meter.createCounter('switchyard.resolver.errors', {
      unit: '{error}', description: 'Resolver failures and rejected service configs from the resolver.',
    }),
    connectionsSucceeded: meter.createCounter('grpc.subchannel.connection_attempts_succeeded', {
      unit: '{attempt}', description: 'Number of successful connection attempts.',
    }),
    connectionsFailed: meter.createCounter('grpc.subchannel.connection_attempts_failed', {
      unit: '{attempt}', description: 'Number of failed connection attempts.',
    }),
    disconnections: meter.createCounter('grpc.subchannel.disconnections', {
      unit: '{disconnection}', description: 'Number of times a connected subchannel became disconnected.',
    }),
    openConnections: meter.createUpDownCounter('grpc.subchannel.open_connections', {
      unit: '{connection}', description: 'Number of open connections.',
    }),
  };
}

/** The load-balancing instruments of gRFC A78, recorded by the policies through their helper. */
export interface LbInstruments {
  readonly counters: Readonly<Record<LbCounterName, Counter>>;
  readonly weights: Histogram;
}

/** Create the A78 instruments. */
export function createLbInstruments(meter: Meter): LbInstruments {
  const counter = (name: LbCounterName, unit: string, description: string): Counter => meter.createCounter(name, { unit, description });
  return {
    counters: {
      'grpc.lb.pick_first.disconnections': counter('grpc.lb.pick_first.disconnections', '{disconnection}',
        'Number of times the selected subchannel becomes disconnected.'),
      'grpc.lb.pick_first.connection_attempts_succeeded': counter('grpc.lb.pick_first.connection_attempts_succeeded', '{attempt}',
        'Number of successful connection attempts.'),
      'grpc.lb.pick_first.connection_attempts_failed': counter('grpc.lb.pick_first.connection_attempts_failed', '{attempt}',
        'Number of failed connection attempts.'),
      'grpc.lb.wrr.rr_fallback': counter('grpc.lb.wrr.rr_fallback', '{update}',
        'Scheduler updates with too few endpoints with a valid weight, so WRR fell back to round robin.'),
      'grpc.lb.wrr.endpoint_weight_not_yet_usable': counter('grpc.lb.wrr.endpoint_weight_not_yet_usable', '{endpoint}',
        'Endpoints per scheduler update without a usable weight yet (no load report, or in the blackout period).'),
      'grpc.lb.wrr.endpoint_weight_stale': counter('grpc.lb.wrr.endpoint_weight_stale', '{endpoint}',
        'Endpoints per scheduler update whose latest weight is older than the expiration period.'),
    },
    weights: meter.createHistogram('grpc.lb.wrr.endpoint_weights', {
      unit: '{weight}', description: 'Endpoint weights per scheduler update (0 for endpoints without a usable weight).',
    }),
  };
}
