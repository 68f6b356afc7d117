import { ConfigError } from '../errors';
import { systemClock, type Clock } from '../clock';
import { DEFAULT_PER_CALL_RETRY_BUFFER_BYTES, DEFAULT_PER_CHANNEL_RETRY_BUFFER_BYTES } from '../retry/retry-buffer';
import { resolveConnectionBackoffConfig, type ConnectionBackoffConfig } from '../backoff';
import type { MeterProviderLike, TracerProviderLike } from '../telemetry/otel';
import type { SwitchyardChannelOptions } from './options';

/** Channel options with every default filled in and every value checked. Internal. */
export interface NormalizedOptions {
  readonly channelOptions: Readonly<Record<string, unknown>>;
  readonly dnsRefreshIntervalMs: number;
  readonly minResolutionIntervalMs: number;
  readonly serviceConfigLookup: boolean;
  readonly resolverOptions: Readonly<Record<string, unknown>>;
  readonly maxEndpoints: number;
  /** Reconnect backoff and connect timeout (`doc/connection-backoff.md`). */
  readonly backoff: ConnectionBackoffConfig;
  readonly connectionAttemptDelayMs: number;
  readonly maxAttemptsCap: number;
  readonly strict: boolean;
  readonly perCallRetryBufferBytes: number;
  readonly perChannelRetryBufferBytes: number;
  readonly idleTimeoutMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly meterProvider: MeterProviderLike | false | undefined;
  readonly tracerProvider: TracerProviderLike | false | undefined;
}

const KNOWN = new Set<string>([
  'serviceConfig', 'channelOptions', 'dnsRefreshIntervalMs', 'minResolutionIntervalMs', 'serviceConfigLookup',
  'resolverOptions', 'maxEndpoints', 'initialReconnectBackoffMs', 'maxReconnectBackoffMs', 'minConnectTimeoutMs',
  'connectionAttemptDelayMs', 'strict', 'maxAttemptsCap', 'perCallRetryBufferBytes', 'perChannelRetryBufferBytes',
  'idleTimeoutMs', 'clock', 'random', 'meterProvider', 'tracerProvider',
]);

/**
 * Validate {@link SwitchyardChannelOptions} and fill in defaults.
 * @throws ConfigError naming `options.<field>` and the rule broken (an unknown option is an error too,
 *   so a misspelt option never silently does nothing).
 */
export function normalizeOptions(options: SwitchyardChannelOptions | undefined): NormalizedOptions {
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new ConfigError('options', 'must be an object', o);
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new ConfigError(`options.${key}`, `is not a switchyard option (known: ${[...KNOWN].join(', ')})`);
  }
  const perCallRetryBufferBytes = integer(o, 'perCallRetryBufferBytes', DEFAULT_PER_CALL_RETRY_BUFFER_BYTES, 0);
  const perChannelRetryBufferBytes = integer(o, 'perChannelRetryBufferBytes', DEFAULT_PER_CHANNEL_RETRY_BUFFER_BYTES, 0);
  return {
    channelOptions: object(o, 'channelOptions'),
    dnsRefreshIntervalMs: positive(o, 'dnsRefreshIntervalMs', 30_000),
    minResolutionIntervalMs: nonNegative(o, 'minResolutionIntervalMs', 30_000),
    serviceConfigLookup: boolean(o, 'serviceConfigLookup', true),
    resolverOptions: object(o, 'resolverOptions'),
    maxEndpoints: integer(o, 'maxEndpoints', 10_000, 1),
    backoff: resolveConnectionBackoffConfig(options ?? {}),
    // gRFC A61: the Happy Eyeballs delay is clamped to [100 ms, 2 s].
    connectionAttemptDelayMs: Math.min(2_000, Math.max(100, positive(o, 'connectionAttemptDelayMs', 250))),
    maxAttemptsCap: integer(o, 'maxAttemptsCap', 5, 2),
    strict: boolean(o, 'strict', false),
    perCallRetryBufferBytes,
    perChannelRetryBufferBytes,
    idleTimeoutMs: nonNegative(o, 'idleTimeoutMs', 30 * 60_000),
    clock: clock(o),
    random: fn(o, 'random', Math.random) as () => number,
    meterProvider: provider(o, 'meterProvider', 'getMeter') as MeterProviderLike | false | undefined,
    tracerProvider: provider(o, 'tracerProvider', 'getTracer') as TracerProviderLike | false | undefined,
  };
}

function num(o: Record<string, unknown>, key: string, fallback: number): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`options.${key}`, 'must be a finite number', v);
  return v;
}
function positive(o: Record<string, unknown>, key: string, fallback: number): number {
  const v = num(o, key, fallback);
  if (v <= 0) throw new ConfigError(`options.${key}`, 'must be > 0', v);
  return v;
}
function nonNegative(o: Record<string, unknown>, key: string, fallback: number): number {
  const v = num(o, key, fallback);
  if (v < 0) throw new ConfigError(`options.${key}`, 'must be >= 0', v);
  return v;
}
function integer(o: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const v = num(o, key, fallback);
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`options.${key}`, `must be an integer >= ${min}`, v);
  return v;
}
function boolean(o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`options.${key}`, 'must be a boolean', v);
  return v;
}
function object(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = o[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`options.${key}`, 'must be an object', v);
  return v as Record<string, unknown>;
}
function fn(o: Record<string, unknown>, key: string, fallback: unknown): unknown {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'function') throw new ConfigError(`options.${key}`, 'must be a function', typeof v);
  return v;
}
function clock(o: Record<string, unknown>): Clock {
  const v = o.clock as Partial<Clock> | undefined;
  if (v === undefined) return systemClock;
  if (typeof v !== 'object' || v === null || typeof v.now !== 'function' || typeof v.setTimeout !== 'function' || typeof v.clearTimeout !== 'function') {
    throw new ConfigError('options.clock', 'must have now(), setTimeout() and clearTimeout()', typeof v);
  }
  return v as Clock;
}
/** An OpenTelemetry provider option: absent, `false`, or an object with the `method` getter. */
function provider(o: Record<string, unknown>, key: string, method: string): unknown {
  const v = o[key];
  if (v === undefined || v === false) return v;
  if (typeof v !== 'object' || v === null || typeof (v as Record<string, unknown>)[method] !== 'function') {
    throw new ConfigError(`options.${key}`, `must be an OpenTelemetry provider (an object with ${method}()) or false`, typeof v);
  }
  return v;
}
