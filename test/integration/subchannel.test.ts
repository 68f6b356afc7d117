import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConnectionBackoffConfig, type ConnectionBackoffOptions } from '../../src/backoff';
import { grpcJsTransport } from '../../src/transport/grpc-js/transport';
import { ChannelSubchannel } from '../../src/subchannel/subchannel';
import { systemClock } from '../../src/clock';
import { AUTHORITY_METHOD, authorityService, waitForSubchannelState } from '../helpers/subchannel-helpers';
import { startBlackHole, type BlackHole } from '../helpers/blackhole';

const { IDLE, READY, TRANSIENT_FAILURE } = grpc.connectivityState;
const METHOD = AUTHORITY_METHOD;

async function startServer(port = 0, host = '127.0.0.1'): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(authorityService, {
    Get: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.from(call.getHost())),
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return { server, port: bound };
}

function makeSubchannel(port: number, backoff: ConnectionBackoffOptions = {}, host = '127.0.0.1'): ChannelSubchannel {
  return new ChannelSubchannel({
    transport: grpcJsTransport,
    address: { host, port },
    credentials: grpc.credentials.createInsecure(),
    channelOptions: {},
    authority: `orders.internal:${port}`,
    clock: systemClock,
    random: Math.random,
    backoff: resolveConnectionBackoffConfig({ initialReconnectBackoffMs: 100, maxReconnectBackoffMs: 200, ...backoff }),
  });
}

const waitForState = waitForSubchannelState;

/** One unary call through `createCall`, driving grpc-js's call object directly like the call layer does. */
function unary(subchannel: ChannelSubchannel): Promise<{ status: grpc.StatusObject; reply?: string }> {
  return new Promise((resolve) => {
    const call = subchannel.createStream(METHOD, Date.now() + 5_000);
    let reply: string | undefined;
    call.start(new grpc.Metadata(), {
      onReceiveMetadata() {},
      onReceiveMessage(message: Buffer) {
        reply = message.toString();
      },
      onReceiveStatus(status: grpc.StatusObject) {
        resolve({ status, reply });
      },
    });
    call.sendMessageWithContext({}, Buffer.from('ping'));
    call.halfClose();
    call.startRead();
  });
}

/** Counts of the active handles/requests that matter for leaks. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

async function expectNoLeaks(baseline: Record<string, number>): Promise<void> {
  // grpc-js closes sessions and its own short timers asynchronously; give it time, tolerate noise.
  const deadline = Date.now() + 5_000;
  for (;;) {
    const now = resources();
    const leaked = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'].filter((t) => (now[t] ?? 0) > (baseline[t] ?? 0));
    if (leaked.length === 0) return;
    if (Date.now() > deadline) {
      expect({ baseline, now }).toEqual({ baseline, now: baseline });
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ChannelSubchannel against real grpc-js servers on loopback', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('connects, carries a call with the target authority, goes IDLE when the server leaves and reconnects after a restart', async () => {
    const baseline = resources();
    const started = await startServer();
    const port = started.port;
    let server = started.server;
    cleanups.push(() => server.forceShutdown());
    const subchannel = makeSubchannel(port);
    cleanups.push(() => subchannel.shutdown());

    subchannel.connect();
    await waitForState(subchannel, READY);
    const first = await unary(subchannel);
    expect(first.status.code).toBe(grpc.status.OK);
    expect(first.reply).toBe(`orders.internal:${port}`);

    // Graceful stop: GOAWAY → the connection is gone → IDLE (not TRANSIENT_FAILURE).
    const idle = waitForState(subchannel, IDLE);
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await idle;
    expect(subchannel.getLastError()).toBeUndefined();

    // Nothing listens now: the attempt fails with the OS's reason.
    const failed = waitForState(subchannel, TRANSIENT_FAILURE);
    subchannel.connect();
    await failed;
    expect(subchannel.getLastError()).toMatch(new RegExp(`^connect to 127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED`));
    const local = await unary(subchannel);
    expect(local.status.code).toBe(grpc.status.UNAVAILABLE);
    expect(local.status.details).toMatch(/is not READY/);
    await waitForState(subchannel, IDLE);

    ({ server } = await startServer(port));
    subchannel.connect();
    await waitForState(subchannel, READY);
    const second = await unary(subchannel);
    expect(second.status.code).toBe(grpc.status.OK);

    subchannel.shutdown();
    server.forceShutdown();
    cleanups.length = 0;
    await expectNoLeaks(baseline);
  });

  it('shutdown() closes the connection and every timer while the server stays up', async () => {
    const { server, port } = await startServer();
    cleanups.push(() => server.forceShutdown());
    const baseline = resources();
    const subchannel = makeSubchannel(port);
    subchannel.connect();
    await waitForState(subchannel, READY);
    expect((await unary(subchannel)).status.code).toBe(grpc.status.OK);
    expect(resources().TCPSocketWrap ?? 0).toBeGreaterThan(baseline.TCPSocketWrap ?? 0);
    subchannel.shutdown();
    await expectNoLeaks(baseline);
  });

  it('connects to an IPv6 loopback address', async () => {
    const { server, port } = await startServer(0, '::1');
    cleanups.push(() => server.forceShutdown());
    const subchannel = makeSubchannel(port, {}, '::1');
    cleanups.push(() => subchannel.shutdown());
    expect(subchannel.key).toBe(`[::1]:${port}`);
    subchannel.connect();
    await waitForState(subchannel, READY);
    const result = await unary(subchannel);
    expect(result.status.code).toBe(grpc.status.OK);
    expect(result.reply).toBe(`orders.internal:${port}`);
  });

  it('abandons a connect attempt to a black hole after the connect timeout', async () => {
    const baseline = resources();
    const hole: BlackHole = await startBlackHole();
    cleanups.push(() => hole.close());
    const subchannel = makeSubchannel(hole.port, { initialReconnectBackoffMs: 100, minConnectTimeoutMs: 300 });
    cleanups.push(() => subchannel.shutdown());
    const started = Date.now();
    subchannel.connect();
    await waitForState(subchannel, TRANSIENT_FAILURE, 15_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(subchannel.getLastError()).toBe(`connect to 127.0.0.1:${hole.port} timed out after 300 ms`);
    expect(hole.accepted()).toBeGreaterThanOrEqual(1);
    // The connect timeout exceeds the backoff, so the subchannel may retry at once.
    await waitForState(subchannel, IDLE);
    subchannel.shutdown();
    await hole.close();
    cleanups.length = 0;
    await expectNoLeaks(baseline);
  });

  it('shutdown() while connecting to a black hole leaves nothing behind once the peer goes away', async () => {
    const baseline = resources();
    const hole = await startBlackHole();
    const subchannel = makeSubchannel(hole.port);
    subchannel.connect();
    const deadline = Date.now() + 10_000;
    while (hole.accepted() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(hole.accepted()).toBe(1);
    subchannel.shutdown();
    expect(subchannel.getState()).toBe(grpc.connectivityState.SHUTDOWN);
    await hole.close();
    await expectNoLeaks(baseline);
  });
});
