import * as grpc from '@grpc/grpc-js';
import { EchoClient } from '../../examples/backend/echo-proto';
import { createChannel, type ChannelStats, type SwitchyardChannel, type SwitchyardChannelOptions } from '../../src/index';

/**
 * The three clients every scenario compares:
 * - `raw`: a plain grpc-js client on one backend, no service config (the baseline);
 * - `grpc-js`: grpc-js with the scenario's service config passed as the `grpc.service_config` channel option;
 * - `switchyard`: the same service config on a switchyard channel (`createChannel` + `channelOverride`).
 */
export type ClientKind = 'raw' | 'grpc-js' | 'switchyard';

/** Every client kind, in report order. */
export const CLIENT_KINDS: readonly ClientKind[] = ['raw', 'grpc-js', 'switchyard'];

/** What a benchmark child needs to build one client (plain JSON, sent over IPC). */
export interface ClientSpec {
  readonly kind: ClientKind;
  /** A gRPC target (`127.0.0.1:50051`, `ipv4:a:p,b:p`, `dns://127.0.0.1:53/name.test:50051`). */
  readonly target: string;
  /** The service config (`doc/service_config.md`) for `grpc-js` and `switchyard`; `raw` must have none. */
  readonly serviceConfig?: object;
  /** Extra grpc-js channel options (both grpc-js kinds; switchyard gets them as `channelOptions`). */
  readonly grpcOptions?: grpc.ChannelOptions;
  /** Extra switchyard options (durations in ms), e.g. `{ dnsRefreshIntervalMs: 5000 }`. */
  readonly switchyard?: Omit<SwitchyardChannelOptions, 'serviceConfig' | 'clock' | 'random' | 'channelOptions'>;
}

/** A client built from a {@link ClientSpec}. */
export interface BenchClient {
  readonly spec: ClientSpec;
  readonly client: EchoClient;
  /** The switchyard channel's counters, or undefined for the grpc-js kinds. */
  stats(): ChannelStats | undefined;
  /** Closes the client and its channel. Idempotent. */
  close(): void;
}

/**
 * Builds the client for `spec`.
 * @throws Error when a `raw` spec carries a service config; ConfigError from switchyard for a bad config.
 */
export function createBenchClient(spec: ClientSpec): BenchClient {
  const credentials = grpc.credentials.createInsecure();
  let channel: SwitchyardChannel | undefined;
  let client: EchoClient;
  switch (spec.kind) {
    case 'raw':
      if (spec.serviceConfig !== undefined) throw new Error('the raw grpc-js baseline takes no service config');
      client = new EchoClient(spec.target, credentials, { ...spec.grpcOptions });
      break;
    case 'grpc-js':
      client = new EchoClient(spec.target, credentials, {
        ...spec.grpcOptions,
        ...(spec.serviceConfig === undefined ? {} : { 'grpc.service_config': JSON.stringify(spec.serviceConfig) }),
      });
      break;
    case 'switchyard':
      channel = createChannel(spec.target, credentials, {
        ...spec.switchyard,
        serviceConfig: spec.serviceConfig,
        channelOptions: spec.grpcOptions,
      });
      client = new EchoClient(spec.target, credentials, { channelOverride: channel });
      break;
  }
  let closed = false;
  return {
    spec,
    client,
    stats: () => channel?.stats(),
    close() {
      if (closed) return;
      closed = true;
      client.close();
      channel?.close();
    },
  };
}
