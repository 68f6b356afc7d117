/**
 * Deadline and cancellation propagation (`npx tsx examples/propagate-deadlines.ts`): the README's
 * snippet, compiled and run. A front server's handler calls a backend through a switchyard channel; the
 * outbound call inherits the incoming call's deadline with no option threaded by hand, and the backend
 * reports how much of it was left. Then a call made outside any server handler runs under
 * `runWithDeadline`. Both servers are echo servers in this process.
 */
// #region readme
import * as grpc from '@grpc/grpc-js';
import { propagateDeadlines, runWithDeadline } from 'switchyard';
import { EchoClient, type EchoReply, type EchoRequest } from './backend/echo-proto';

/** The front service: its handler calls `backend`, a client on a switchyard channel. */
export function frontService(backend: EchoClient): grpc.UntypedServiceImplementation {
  return propagateDeadlines({
    async Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      await new Promise((resolve) => setTimeout(resolve, 20)); // some async work first
      // This outbound call inherits the incoming call's deadline (the earlier wins) and is cancelled
      // when the incoming call is cancelled. No `deadline` or `parent` option threaded by hand.
      backend.Unary(call.request, new grpc.Metadata(), {}, (error, reply) => callback(error, reply));
    },
  });
}

/** Without a server call: everything inside runs under this absolute deadline (ms since epoch, or a Date). */
export function unaryWithin500Ms(client: EchoClient, request: EchoRequest): Promise<EchoReply> {
  return runWithDeadline(Date.now() + 500, () => new Promise<EchoReply>((resolve, reject) => {
    client.Unary(request, new grpc.Metadata(), {}, (error, reply) => (error ? reject(error) : resolve(reply!)));
  }));
}
// #endregion readme

async function main(): Promise<void> {
  const { createChannel } = await import('switchyard');
  const { echoServiceDefinition } = await import('./backend/echo-proto');
  const { startEchoServer } = await import('./backend/echo-server');
  const credentials = grpc.credentials.createInsecure();
  const backendServer = await startEchoServer({ id: 'backend' });
  const backendTarget = `ipv4:${backendServer.address}`;
  const channel = createChannel(backendTarget, credentials);
  const backend = new EchoClient(backendTarget, credentials, { channelOverride: channel });
  const front = new grpc.Server();
  front.addService(echoServiceDefinition, frontService(backend));
  const port = await new Promise<number>((resolve, reject) =>
    front.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))));
  const frontClient = new EchoClient(`127.0.0.1:${port}`, credentials);
  try {
    const reply = await new Promise<EchoReply>((resolve, reject) => {
      frontClient.Unary({ message: 'via front' }, new grpc.Metadata(), { deadline: Date.now() + 300 },
        (error, r) => (error ? reject(error) : resolve(r!)));
    });
    console.log(`front called with a 300 ms deadline; the backend saw ${reply.deadline_remaining_ms} ms left`);
    const direct = await unaryWithin500Ms(backend, { message: 'direct' });
    console.log(`runWithDeadline(now + 500 ms): the backend saw ${direct.deadline_remaining_ms} ms left`);
  } finally {
    frontClient.close();
    channel.close();
    front.forceShutdown();
    await backendServer.stop(1_000);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
