import { ECHO_SERVICE_NAME } from '../../examples/backend/echo-proto';

/**
 * Service configs (`doc/service_config.md`) shared by the scenarios. The same object goes to grpc-js
 * (as the `grpc.service_config` channel option) and to switchyard (`serviceConfig`).
 */

/** Method name matching every method of the echo service. */
const ECHO_METHODS = [{ service: ECHO_SERVICE_NAME }];

/** A gRFC A6 retry policy on UNAVAILABLE: 5 attempts, 5 ms initial backoff doubling up to 50 ms. */
export const RETRY_POLICY = {
  maxAttempts: 5,
  initialBackoff: '0.005s',
  maxBackoff: '0.05s',
  backoffMultiplier: 2,
  retryableStatusCodes: ['UNAVAILABLE'],
} as const;

/** The gRFC A6 example throttle: 10 tokens, +0.1 per success; retries stop below 5 tokens. */
export const RETRY_THROTTLING = { maxTokens: 10, tokenRatio: 0.1 } as const;

/** Options of {@link serviceConfig}. */
export interface ServiceConfigOptions {
  /** `pick_first` or `round_robin`. Default `pick_first`. */
  readonly policy?: 'pick_first' | 'round_robin';
  /** Add {@link RETRY_POLICY}. */
  readonly retry?: boolean;
  /** Add {@link RETRY_THROTTLING}. */
  readonly throttling?: boolean;
  /** A gRFC A6 hedging policy: `hedgingDelay` in ms and `maxAttempts`. */
  readonly hedging?: { readonly delayMs: number; readonly maxAttempts: number };
}

/** Builds a service config; `retry` and `hedging` are mutually exclusive (gRFC A6). */
export function serviceConfig(options: ServiceConfigOptions = {}): object {
  const method: Record<string, unknown> = { name: ECHO_METHODS };
  if (options.retry) method.retryPolicy = RETRY_POLICY;
  if (options.hedging) {
    method.hedgingPolicy = {
      maxAttempts: options.hedging.maxAttempts,
      hedgingDelay: `${options.hedging.delayMs / 1000}s`,
      nonFatalStatusCodes: [],
    };
  }
  return {
    loadBalancingConfig: [{ [options.policy ?? 'pick_first']: {} }],
    ...(options.retry || options.hedging ? { methodConfig: [method] } : {}),
    ...(options.throttling ? { retryThrottling: RETRY_THROTTLING } : {}),
  };
}
