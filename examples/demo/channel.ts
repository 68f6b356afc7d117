import * as grpc from '@grpc/grpc-js';
import { createChannel } from '../../src/index';
import { EchoClient } from '../backend/echo-proto';
import type { DemoOptions } from './args';

/** An echo client on its own switchyard channel. */
export interface DemoClient {
  readonly client: EchoClient;
  readonly channel: grpc.ChannelInterface;
  /** Closes the client and the channel. Idempotent. */
  close(): void;
}

/**
 * The service config the demo runs with (`doc/service_config.md` JSON form): the chosen load-balancing
 * policy. A place to add `methodConfig` retry policies and `retryThrottling` for comparison runs.
 */
export function demoServiceConfig(options: Pick<DemoOptions, 'policy'>): object {
  return { loadBalancingConfig: [{ [options.policy]: {} }] };
}

/** The `ipv4:` target listing every local backend address (`doc/naming.md`). */
export function ipv4Target(addresses: readonly string[]): string {
  return `ipv4:${addresses.join(',')}`;
}

/**
 * Opens a switchyard channel to `target` with `serviceConfig` and an echo client on it.
 * @throws ConfigError for a malformed target or an invalid service config.
 */
export function openDemoClient(target: string, serviceConfig: object): DemoClient {
  const credentials = grpc.credentials.createInsecure();
  const channel = createChannel(target, credentials, { serviceConfig });
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
