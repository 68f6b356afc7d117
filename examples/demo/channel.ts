import * as grpc from '@grpc/grpc-js';
import { createChannel, type MeterProviderLike, type SwitchyardChannel } from 'switchyard';
import { ECHO_SERVICE_NAME, EchoClient } from '../backend/echo-proto';
import type { DemoOptions } from './args';

/** An echo client on its own switchyard channel. */
export interface DemoClient {
  readonly client: EchoClient;
  readonly channel: SwitchyardChannel;
  /** Closes the client and the channel. Idempotent. */
  close(): void;
}

/** The retry policy of the demo methods (gRFC A6): three attempts on UNAVAILABLE, 50 ms first backoff. */
const RETRY_POLICY = {
  maxAttempts: 3,
  initialBackoff: '0.05s',
  maxBackoff: '0.5s',
  backoffMultiplier: 2,
  retryableStatusCodes: ['UNAVAILABLE'],
};

/**
 * Retry throttling (gRFC A6): every failure costs a token, every success earns 0.2; retries stop while
 * 10 or fewer of the 20 tokens are left. The flaky backend alone never gets there; a sustained outage does.
 */
const RETRY_THROTTLING = { maxTokens: 20, tokenRatio: 0.2 };

/**
 * Reconnect backoff cap in ms for the demo channels. The default (120 s, `doc/connection-backoff.md`)
 * would keep a restarted backend waiting for most of a run a few seconds long; 1 s lets it rejoin in time.
 */
export const DEMO_MAX_RECONNECT_BACKOFF_MS = 1_000;

/** The header the demo's calls carry (one of 100 users), which `ring_hash` hashes (gRFC A76). */
export const DEMO_HASH_HEADER = 'x-user';

/**
 * The config each demo policy runs with: `outlier_detection` (over round_robin) ejects a backend failing
 * more than 20 % of at least 20 calls in a second, which the flaky backend does; `weighted_round_robin`
 * takes the backends' out-of-band ORCA reports; `ring_hash` hashes {@link DEMO_HASH_HEADER}.
 */
export function demoPolicyConfig(policy: DemoOptions['policy']): object {
  switch (policy) {
    case 'outlier_detection':
      return {
        interval: '1s', baseEjectionTime: '10s', maxEjectionPercent: 34,
        failurePercentageEjection: { threshold: 20, minimumHosts: 3, requestVolume: 20 },
        childPolicy: [{ round_robin: {} }],
      };
    case 'weighted_round_robin':
      return { enableOobLoadReport: true, oobReportingPeriod: '0.5s', blackoutPeriod: '2s' };
    case 'ring_hash':
      return { requestHashHeader: DEMO_HASH_HEADER };
    default:
      return {};
  }
}

/**
 * The service config the demo runs with (`doc/service_config.md` JSON form): the chosen load-balancing
 * policy and, for every `switchyard.demo.Echo` method, a timeout of `timeoutMs`. With `resilient`, also
 * a retry policy on UNAVAILABLE (or a hedging policy when `hedgeDelayMs` is set) and retry throttling;
 * without, the same config minus those, for the comparison run.
 */
export function demoServiceConfig(
  options: Pick<DemoOptions, 'policy' | 'timeoutMs' | 'hedgeDelayMs'>,
  resilient: boolean,
): object {
  const methodConfig: Record<string, unknown> = {
    name: [{ service: ECHO_SERVICE_NAME }],
    timeout: `${options.timeoutMs / 1000}s`,
  };
  if (resilient && options.hedgeDelayMs !== undefined) {
    methodConfig.hedgingPolicy = {
      maxAttempts: 3,
      hedgingDelay: `${options.hedgeDelayMs / 1000}s`,
      nonFatalStatusCodes: ['UNAVAILABLE'],
    };
  } else if (resilient) {
    methodConfig.retryPolicy = RETRY_POLICY;
  }
  return {
    loadBalancingConfig: [{ [options.policy]: demoPolicyConfig(options.policy) }],
    methodConfig: [methodConfig],
    ...(resilient ? { retryThrottling: RETRY_THROTTLING } : {}),
  };
}

/** The `ipv4:` target listing every local backend address (`doc/naming.md`). */
export function ipv4Target(addresses: readonly string[]): string {
  return `ipv4:${addresses.join(',')}`;
}

/**
 * Opens a switchyard channel to `target` with `serviceConfig` (and the reconnect backoff capped at
 * {@link DEMO_MAX_RECONNECT_BACKOFF_MS}) and an echo client on it.
 * @param resolverOptions per-scheme resolver options, e.g. `{ etcd: { endpoints } }`.
 * @param meterProvider records the channel's OpenTelemetry metrics (default: the global provider).
 * @throws ConfigError for a malformed target or an invalid service config.
 */
export function openDemoClient(
  target: string,
  serviceConfig: object,
  resolverOptions?: Record<string, unknown>,
  meterProvider?: MeterProviderLike,
): DemoClient {
  const credentials = grpc.credentials.createInsecure();
  const channel = createChannel(target, credentials, {
    serviceConfig,
    resolverOptions,
    maxReconnectBackoffMs: DEMO_MAX_RECONNECT_BACKOFF_MS,
    meterProvider,
  });
  const client = new EchoClient(target, credentials, { channelOverride: channel });
  let closed = false;
  return {
    client,
    channel,
    close() {
      if (closed) return;
      closed = true;
      // grpc-js's Client.close() also closes an override channel; closing it again must be harmless.
      client.close();
      channel.close();
    },
  };
}
