/**
 * Servers that close connections on purpose: a graceful shutdown (SIGTERM → GOAWAY, running calls
 * finish) and connection recycling with `grpc.max_connection_age_ms` (a GOAWAY every few hundred ms).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  failures, HOSTS, load, openProbe, retryPolicy, served, serviceConfig, servedBy, sleep, startFleet, startOptionsBackend, State,
  waitFor, warmUp, type Fleet,
} from '../helpers/fault-harness';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet(2, ['--grace-ms', '5000']);
});
afterEach(async () => {
  await fleet.restore();
});
afterAll(async () => {
  await fleet?.close();
});

describe('graceful server shutdown', () => {
  it.each([
    ['with a retry policy', { retryPolicy: retryPolicy() }],
    ['without a retry policy', {}],
  ])('SIGTERM under load, %s: running calls finish on the draining backend, new ones go to the other; none fails', async (_name, methodConfig) => {
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig(methodConfig) });
    await warmUp(probe, ['b0', 'b1']);

    let stop!: () => void;
    const running = load(probe, 6, { message: 'drain', delay_ms: 150 }, new Promise<void>((resolve) => (stop = resolve)), { timeoutMs: 10_000 });
    await waitFor(async () => (await served(fleet.backends[0]!)) >= 10, 'load on b0', 10_000, 10);
    const before = (await fleet.backends[0]!.stats()).methods.Unary;
    await fleet.backends[0]!.kill('SIGTERM');
    await sleep(300);
    stop();
    const outcomes = await running;

    // Expected: no failure at all. In-flight calls complete on b0 (GOAWAY lets them finish); streams
    // that raced with the GOAWAY are refused by b0's transport and transparently retried.
    expect(failures(outcomes)).toEqual([]);
    expect(before.cancelled).toBe(0);
    // Graceful means no attempt failed: the retry policy never had to act.
    expect(probe.channel.stats().retries).toBe(0);
    expect(probe.channel.getConnectivityState(false)).toBe(State.READY);

    await fleet.backends[0]!.restart();
    await warmUp(probe, ['b0']);
    await probe.closeAndCheck();
  });
});

describe('grpc.max_connection_age_ms on the server', () => {
  it.each([
    ['with a retry policy', { retryPolicy: retryPolicy() }],
    ['without a retry policy', {}],
  ])('connections recycled every 300 ms, %s: every call succeeds and the channel reconnects each time', async (_name, methodConfig) => {
    const aged = await startOptionsBackend('aged', HOSTS[4], fleet.port, {
      'grpc.max_connection_age_ms': 300,
      'grpc.max_connection_age_grace_ms': 2_000,
    });
    try {
      await fleet.setAddresses([HOSTS[4]]);
      const probe = openProbe(fleet.target, { serviceConfig: serviceConfig(methodConfig) });
      await warmUp(probe, ['aged']);
      const readyBefore = probe.events.connectivity.filter((e) => e.state === State.READY).length;

      const outcomes = await load(probe, 4, { message: 'age', delay_ms: 20 }, sleep(2_000), { timeoutMs: 10_000 });

      expect(failures(outcomes)).toEqual([]);
      expect(new Set(servedBy(outcomes))).toEqual(new Set(['aged']));
      // One backend: each GOAWAY takes the channel out of READY until the new connection is up.
      const reconnects = probe.events.connectivity.filter((e) => e.state === State.READY).length - readyBefore;
      expect(reconnects).toBeGreaterThanOrEqual(3);
      // Streams that raced with a GOAWAY were refused by the server's transport: retried transparently
      // (gRFC A6), never as a counted retry, and never failed.
      expect(probe.channel.stats().retries).toBe(0);
      await probe.closeAndCheck();
    } finally {
      await aged.close();
    }
  });
});
