/**
 * Child process for the optional peer dependency tests (run with `hide-packages.mjs` hiding some):
 *
 * - `etcd <closed port>`: resolve an `etcd:` target; prints `{"error": <the error event's message>}`.
 * - `call`: one call through a switchyard channel to an in-process echo server; prints `{"reply",
 *   "loaded"}` with the `@opentelemetry/*` and etcd packages in the module cache afterwards.
 */
import * as grpc from '@grpc/grpc-js';
import { createChannel } from '../../src/index';
import { makeEchoClient } from './echo-client';
import { startEchoServer } from './echo-server';

function loaded(): string[] {
  const found = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const match = /[\\/]node_modules[\\/](@opentelemetry[\\/][^\\/]+|etcd3|cockatiel)[\\/]/.exec(file);
    if (match) found.add(match[1]!.replace('\\', '/'));
  }
  return [...found].sort();
}

async function main(): Promise<void> {
  const insecure = grpc.credentials.createInsecure();
  if (process.argv[2] === 'etcd') {
    const channel = createChannel('etcd:///optional', insecure, {
      resolverOptions: { etcd: { endpoints: [`127.0.0.1:${process.argv[3] ?? '1'}`], requestTimeoutMs: 2_000 } },
    });
    const error = await new Promise<Error>((resolve) => {
      channel.events.once('error', resolve);
      channel.getConnectivityState(true);
    });
    channel.close();
    process.stdout.write(`${JSON.stringify({ error: error.message })}\n`);
    return;
  }
  const server = await startEchoServer({ id: 'optional' });
  const target = `ipv4:${server.address}`;
  const channel = createChannel(target, insecure);
  const client = makeEchoClient(target, insecure, { channelOverride: channel });
  const reply = await new Promise<string>((resolve, reject) => {
    client.Unary({ message: 'hi' }, new grpc.Metadata(), {}, (error, r) => (error ? reject(error) : resolve(r!.message)));
  });
  channel.close();
  await server.stop();
  process.stdout.write(`${JSON.stringify({ reply, loaded: loaded() })}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
