import type { SubchannelSnapshot } from './subchannels';

export type { SubchannelSnapshot } from './subchannels';

/** Where the service config in use came from. */
export type ServiceConfigSource = 'resolver' | 'default' | 'none';

/** The channel's last resolver result, as its resolving policy saw it. */
export interface ResolutionSnapshot {
  /** When the last endpoint list was accepted (ms since the epoch), or `undefined` before the first. */
  readonly at: number | undefined;
  /** The addresses of that list, as `host:port` keys, per endpoint. */
  readonly endpoints: readonly (readonly string[])[];
  /** Whether the service config in use is the resolver's, the `serviceConfig` option, or none. */
  readonly configSource: ServiceConfigSource;
  /** The last resolver failure or rejected resolver config, and when (ms since the epoch). */
  readonly lastError: { readonly message: string; readonly at: number } | undefined;
}

/**
 * A channel's state in the spirit of channelz (gRFC A14), as plain JSON-safe data. Built on demand by
 * `channel.snapshot()` in O(subchannels); nothing is kept for it beyond plain counters.
 */
export interface ChannelSnapshot {
  /** The channel's process-unique id (its channelz ref id, and the id in debug log lines). */
  readonly id: number;
  readonly target: string;
  /** Connectivity state name: `IDLE`, `CONNECTING`, `READY`, `TRANSIENT_FAILURE` or `SHUTDOWN`. */
  readonly state: string;
  readonly resolution: ResolutionSnapshot;
  /** The service config in use, in canonical JSON form (`serviceConfigToJson`). */
  readonly serviceConfig: Record<string, unknown>;
  /** The root load-balancing policy and its parsed config (which names its child policies, if any). */
  readonly policy: { readonly name: string; readonly config: unknown };
  /** Every subchannel the channel holds. */
  readonly subchannels: readonly SubchannelSnapshot[];
  /** The channel's call counters (as `stats()`, without the tokens). */
  readonly calls: {
    readonly started: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly attempts: number;
    readonly retries: number;
    readonly hedges: number;
    readonly transparentRetries: number;
    readonly throttled: number;
    readonly deadlineExceeded: number;
  };
  /** The retry throttle (gRFC A6) in use, or `undefined` without `retryThrottling`. */
  readonly throttle: { readonly tokens: number; readonly maxTokens: number; readonly tokenRatio: number } | undefined;
}
