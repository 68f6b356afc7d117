import type { ChannelOptions } from '@grpc/grpc-js';
import type { Clock } from '../clock';
import type { MeterProviderLike, TracerProviderLike } from '../telemetry/otel';

/**
 * Options for {@link createChannel}. Every duration is in milliseconds; every size in bytes.
 * Invalid values throw a `ConfigError` naming `options.<field>`.
 */
export interface SwitchyardChannelOptions {
  /**
   * The standard gRPC service config (`doc/service_config.md`), as a JS object or a JSON string: the
   * same JSON grpc-go, grpc-java and grpc-js accept. Used unless the resolver supplies one (gRFC A2).
   */
  serviceConfig?: object | string;
  /** grpc-js channel options applied to every connection switchyard opens (e.g. keepalive, compression). */
  channelOptions?: ChannelOptions;
  /** DNS: periodic re-resolution interval. Default 30 000 ms. */
  dnsRefreshIntervalMs?: number;
  /** Minimum time between two resolutions, however often they are requested. Default 30 000 ms. */
  minResolutionIntervalMs?: number;
  /** DNS: look up the service config in TXT records at `_grpc_config.<host>` (gRFC A2). Default true. */
  serviceConfigLookup?: boolean;
  /**
   * Largest endpoint list the channel accepts from a resolver; a longer list is cut to its first
   * `maxEndpoints` entries and reported as an `error` event, so a resolver cannot make the channel hold
   * (or connect to) an unbounded number of endpoints. Default 10 000.
   */
  maxEndpoints?: number;
  /** Resolver-specific options keyed by scheme, e.g. `{ etcd: { endpoints: ['127.0.0.1:2379'] } }`. */
  resolverOptions?: Record<string, unknown>;
  /** Reconnect backoff (`doc/connection-backoff.md`): first delay. Default 1 000 ms. */
  initialReconnectBackoffMs?: number;
  /** Reconnect backoff: largest delay. Default 120 000 ms. */
  maxReconnectBackoffMs?: number;
  /** Every connect attempt gets at least this long before it is abandoned. Default 20 000 ms. */
  minConnectTimeoutMs?: number;
  /** Happy Eyeballs delay before the next address is tried (gRFC A61). Default 250 ms, clamped to [100, 2000]. */
  connectionAttemptDelayMs?: number;
  /**
   * Reject a service config (the `serviceConfig` option: `ConfigError`; a resolver's: rejected per
   * gRFC A21) that has fields switchyard would ignore — unknown or misspelt keys, a method config
   * without `name`. Default false: gRPC ignores unknown fields, and switchyard reports each as a
   * `warning` event.
   */
  strict?: boolean;
  /** Cap on a retry or hedging policy's `maxAttempts` (gRFC A6). Default 5. */
  maxAttemptsCap?: number;
  /** Retry buffer per call: outgoing bytes kept for replay; past it the call commits. Default 256 KiB. */
  perCallRetryBufferBytes?: number;
  /** Retry buffer shared by all calls of the channel. Default 16 MiB. */
  perChannelRetryBufferBytes?: number;
  /** Close connections after this long without calls (gRFC A62 recommends 30 min). 0 disables. Default 1 800 000 ms. */
  idleTimeoutMs?: number;
  /**
   * The OpenTelemetry `MeterProvider` to record gRFC A66/A78/A94/A96 metrics and switchyard's own to
   * (see docs/observability.md). Default: OpenTelemetry's global provider, if `@opentelemetry/api` is
   * installed and an SDK was registered before the channel was created; otherwise nothing is
   * recorded. `false`: no metrics.
   */
  meterProvider?: MeterProviderLike | false;
  /**
   * The OpenTelemetry `TracerProvider` for gRFC A72 spans (one per call, one per attempt; the
   * attempt's context goes to the server through the global propagator). Default: the global
   * provider, under the same conditions as `meterProvider`. `false`: no spans.
   */
  tracerProvider?: TracerProviderLike | false;
  /** The clock for every timer switchyard owns. Default: the system clock. For tests. */
  clock?: Clock;
  /** Uniform random numbers in [0, 1) for jitter, shuffles and start indices. Default `Math.random`. For tests. */
  random?: () => number;
}
