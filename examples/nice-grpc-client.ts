/**
 * A nice-grpc client on a switchyard channel (`npx tsx examples/nice-grpc-client.ts`).
 *
 * nice-grpc's `createClient` takes a grpc-js `Channel`; a `SwitchyardChannel` is typed as one (it
 * implements grpc-js's `ChannelInterface`, and nice-grpc hands it to grpc-js as `channelOverride`), so
 * no cast is needed. Calls get switchyard's load balancing and the service config's retry policy; a
 * nice-grpc `signal` cancels the call, retries and backoff included.
 */
import * as grpc from '@grpc/grpc-js';
import { createClient } from 'nice-grpc';
import { createChannel, type SwitchyardChannel } from 'switchyard';
import { ECHO_SERVICE_NAME, echoServiceDefinition, type EchoReply, type EchoRequest } from './backend/echo-proto';

/** The echo methods as nice-grpc presents them: promises and async iterables. */
export interface NiceEchoClient {
  Unary(request: EchoRequest, options?: { signal?: AbortSignal }): Promise<EchoReply>;
  ServerStream(request: EchoRequest, options?: { signal?: AbortSignal }): AsyncIterable<EchoReply>;
}

/**
 * A nice-grpc echo client on a new switchyard channel to `target` (round_robin, UNAVAILABLE retried).
 * Close the returned channel when done.
 */
export function createNiceEchoClient(target: string): { client: NiceEchoClient; channel: SwitchyardChannel } {
  const channel = createChannel(target, grpc.credentials.createInsecure(), {
    serviceConfig: {
      loadBalancingConfig: [{ round_robin: {} }],
      methodConfig: [{
        name: [{ service: ECHO_SERVICE_NAME }],
        retryPolicy: {
          maxAttempts: 3, initialBackoff: '0.05s', maxBackoff: '0.5s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'],
        },
      }],
    },
  });
  const client = createClient(echoServiceDefinition, channel) as unknown as NiceEchoClient;
  return { client, channel };
}

async function main(): Promise<void> {
  const { startEchoServer } = await import('./backend/echo-server');
  const servers = await Promise.all(['a', 'b'].map((id) => startEchoServer({ id })));
  const { client, channel } = createNiceEchoClient(`ipv4:${servers.map((s) => s.address).join(',')}`);
  try {
    for (let i = 0; i < 4; i++) {
      const reply = await client.Unary({ message: `call ${i}` });
      console.log(`${reply.message} served by ${reply.backend}`);
    }
    // The first attempt fails with UNAVAILABLE; the retry policy answers from the second.
    const retried = await client.Unary({ message: 'retried', fail_code: grpc.status.UNAVAILABLE, fail_attempts: 1 });
    console.log(`retried: served by attempt ${retried.attempt + 1}`);
    for await (const reply of client.ServerStream({ message: 'stream', response_count: 3 })) {
      console.log(`stream reply from ${reply.backend}`);
    }
  } finally {
    channel.close();
    await Promise.all(servers.map((s) => s.stop(1_000)));
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
