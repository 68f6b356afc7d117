import type { status } from '@grpc/grpc-js';
import type { LoadBalancingPolicyFactory } from '../picker/types';

/**
 * A retry policy (gRFC A6), validated and normalized. Durations are in milliseconds.
 * `maxAttempts` counts the original attempt and is already capped (5 unless the channel raised it).
 */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  readonly retryableStatusCodes: ReadonlySet<status>;
}

/** A hedging policy (gRFC A6). `hedgingDelayMs` 0 sends all attempts at once. */
export interface HedgingPolicy {
  readonly maxAttempts: number;
  readonly hedgingDelayMs: number;
  readonly nonFatalStatusCodes: ReadonlySet<status>;
}

/** Retry throttling parameters (gRFC A6): `maxTokens` in (0, 1000], `tokenRatio` > 0 (3 decimals). */
export interface RetryThrottlingConfig {
  readonly maxTokens: number;
  readonly tokenRatio: number;
}

/** One method config (`doc/service_config.md`), frozen. Durations in ms, sizes in bytes. */
export interface MethodConfig {
  /** Relative timeout in ms for the whole call (all attempts). */
  readonly timeoutMs?: number;
  readonly waitForReady?: boolean;
  readonly maxRequestMessageBytes?: number;
  readonly maxResponseMessageBytes?: number;
  readonly retryPolicy?: RetryPolicy;
  readonly hedgingPolicy?: HedgingPolicy;
}

/** The selected load-balancing policy and its parsed config. */
export interface LoadBalancingChoice {
  readonly factory: LoadBalancingPolicyFactory;
  readonly config: unknown;
}

/** A parsed, validated service config. Built once per update; nothing re-parses it per call. */
export interface ServiceConfig {
  /** `undefined` means the default (pick_first). */
  readonly loadBalancing: LoadBalancingChoice | undefined;
  /**
   * Method configs keyed by `/service/method`, `/service/` and `` (the default), per the
   * matching rule of `doc/service_config.md`. Use `lookupMethodConfig`, which memoizes per method.
   */
  readonly methodConfigs: ReadonlyMap<string, MethodConfig>;
  readonly retryThrottling: RetryThrottlingConfig | undefined;
  /** gRFC A17 health checking service name, if configured. */
  readonly healthCheckServiceName: string | undefined;
}
