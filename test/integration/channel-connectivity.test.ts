/**
 * The grpc-js `Channel` connectivity API on a switchyard channel (`doc/connectivity-semantics-and-api.md`):
 * IDLE until first use, `getConnectivityState(true)` connects, `watchConnectivityState` reports changes
 * and deadlines, `grpc.waitForClientReady` works, and `close()` means SHUTDOWN with nothing left running.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock';
import { createChannel, type Clock, type TimerHandle } from '../../src/index';
import { sleep, waitFor, waitForState } from '../helpers/channel-wait';
import { makeEchoClient, unary, unaryOutcome } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

const { IDLE, CONNECTING, READY, SHUTDOWN } = grpc.connectivityState;
const insecure = grpc.credentials.createInsecure();

/** Handles of the kinds a channel could leak, counted by type. */
function liveResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) {
    // stdio pipes, the test runner's IPC and pending immediates are not the channel's.
    if (type === 'PipeWrap' || type === 'TTYWrap' || type === 'Immediate') continue;
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** The system clock, keeping track of the timers switchyard has pending (its timers are unref'd, so
 * `process.getActiveResourcesInfo()` does not list them). */
function countingClock(): Clock & { pending: Set<TimerHandle> } {
  const pending = new Set<TimerHandle>();
  return {
    pending,
    now: () => systemClock.now(),
    setTimeout(callback, delayMs) {
      const handle = systemClock.setTimeout(() => {
        pending.delete(handle);
        callback();
      }, delayMs);
      pending.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      pending.delete(handle);
      systemClock.clearTimeout(handle);
    },
  };
}

/** Calls `watchConnectivityState` and resolves with the outcome. */
function watch(channel: grpc.ChannelInterface, from: grpc.connectivityState, deadline: number): Promise<Error | undefined> {
  return new Promise((resolve) => channel.watchConnectivityState(from, deadline, (error) => resolve(error)));
}

describe('connectivity API', () => {
  let server: EchoServerHandle;
  let proxy: TcpProxy;
  let target: string;

  beforeAll(async () => {
    server = await startEchoServer({ id: 'c' });
    proxy = await startTcpProxy(server.port);
    target = `ipv4:${proxy.address}`;
  });
  afterAll(async () => {
    await proxy.close();
    await server.stop(100);
  });

  it('stays IDLE without I/O until asked; getConnectivityState(true) connects; watchers fire on change', async () => {
    const channel = createChannel(target, insecure);
    try {
      const accepted = proxy.accepted();
      expect(channel.getConnectivityState(false)).toBe(IDLE);
      await sleep(300);
      expect(channel.getConnectivityState(false)).toBe(IDLE);
      expect(proxy.accepted()).toBe(accepted);

      const leftIdle = watch(channel, IDLE, Date.now() + 10_000);
      expect(channel.getConnectivityState(true)).not.toBe(IDLE);
      expect(await leftIdle).toBeUndefined();
      await waitForState(channel, READY, 10_000, false);
      expect(proxy.accepted()).toBe(accepted + 1);

      // A state that differs already: the callback comes at once (asynchronously), without error.
      expect(await watch(channel, CONNECTING, Date.now() + 10_000)).toBeUndefined();
      // No change before the deadline: the callback gets an error.
      const started = Date.now();
      const timedOut = await watch(channel, READY, Date.now() + 200);
      expect(timedOut).toBeInstanceOf(Error);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      channel.close();
    }
  });

  it('supports grpc.waitForClientReady', async () => {
    const channel = createChannel(target, insecure);
    const client = makeEchoClient(target, insecure, { channelOverride: channel });
    try {
      expect(client.getChannel()).toBe(channel);
      await new Promise<void>((resolve, reject) =>
        grpc.waitForClientReady(client, Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
      );
      expect(channel.getConnectivityState(false)).toBe(READY);
      expect((await unary(client, { message: 'ready' })).backend).toBe('c');
    } finally {
      client.close();
      channel.close();
    }
  });

  it('close(): SHUTDOWN, running calls finish, later calls throw, and no socket or timer is left', async () => {
    const before = liveResources();
    // A DNS target, so the resolver's refresh timer is part of what must be cleaned up.
    const dnsTarget = `dns:///localhost:${proxy.port}`;
    const clock = countingClock();
    const channel = createChannel(dnsTarget, insecure, { dnsRefreshIntervalMs: 1_000, minResolutionIntervalMs: 0, clock });
    const client = makeEchoClient(dnsTarget, insecure, { channelOverride: channel });
    expect((await unary(client, { message: 'x' })).backend).toBe('c');
    const served = server.stats().methods.Unary.calls;
    const inFlight = unaryOutcome(client, { message: 'slow', delay_ms: 300 });
    await waitFor(() => server.stats().methods.Unary.calls > served, 'the slow call to reach the server');
    const shutdownSeen = watch(channel, READY, Date.now() + 10_000);
    // At least the DNS refresh timer runs while the channel is open.
    expect(clock.pending.size).toBeGreaterThan(0);

    channel.close();
    expect(channel.getConnectivityState(false)).toBe(SHUTDOWN);
    expect(channel.getConnectivityState(true)).toBe(SHUTDOWN);
    expect(await shutdownSeen).toBeUndefined();
    expect(() => channel.createCall('/switchyard.demo.Echo/Unary', Infinity, null, null, null)).toThrow(/shut down/);
    expect(() => channel.watchConnectivityState(SHUTDOWN, Date.now() + 1_000, () => {})).toThrow(/shut down/);
    channel.close(); // idempotent
    // A call already running on a connection finishes normally (connections close gracefully).
    const outcome = await inFlight;
    expect(outcome.status.code).toBe(grpc.status.OK);
    expect(outcome.reply?.message).toBe('slow');
    client.close();

    // No switchyard timer is pending (resolver refresh, connect timeouts, backoff, idle timer...).
    expect(clock.pending.size).toBe(0);
    // Connections close asynchronously; then no socket (or other ref'd handle) the channel made is left.
    await waitFor(() => proxy.openConnections() === 0, 'the connection to close');
    await waitFor(() => {
      const after = liveResources();
      return Object.keys({ ...before, ...after }).every((type) => (after[type] ?? 0) <= (before[type] ?? 0));
    }, `no leftover handles (before ${JSON.stringify(before)}, now ${JSON.stringify(liveResources())})`, 5_000);
  });

  it('close() fails calls waiting for a connection with UNAVAILABLE', async () => {
    // Nothing listens on the port the dead proxy had: every connect attempt is refused.
    const dead = await startTcpProxy(server.port);
    const deadTarget = `ipv4:${dead.address}`;
    await dead.close();
    const channel = createChannel(deadTarget, insecure);
    const client = makeEchoClient(deadTarget, insecure, { channelOverride: channel });
    const waiting = unaryOutcome(client, { message: 'w' }, { metadata: new grpc.Metadata({ waitForReady: true }) });
    await sleep(200);
    channel.close();
    const outcome = await waiting;
    expect(outcome.error?.code).toBe(grpc.status.UNAVAILABLE);
    client.close();
  });
});
