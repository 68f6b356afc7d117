/**
 * A call's deadline running out in each phase: while the call waits out a retry backoff, while it waits
 * for a reconnect backoff, while the connection is being set up, and in the middle of a stream. In every
 * case the application hears of it no more than 50 ms after the deadline (checked for every call by
 * `closeAndCheck`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEADLINE_SLACK_MS, HOSTS, openProbe, retryPolicy, serviceConfig, startFleet, State, Status, waitFor, warmUp, type Fleet,
} from '../helpers/fault-harness';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet(2);
});
afterEach(async () => {
  await fleet.restore();
});
afterAll(async () => {
  await fleet?.close();
});

describe('deadline expiring', () => {
  it('during a retry backoff: the retry that would start after the deadline is not scheduled; the call ends with the last status at once', async () => {
    const probe = openProbe(fleet.target, {
      serviceConfig: serviceConfig({ retryPolicy: retryPolicy({ initialBackoff: '0.3s', maxBackoff: '2s', backoffMultiplier: 3 }) }),
      random: () => 0.5,
    });
    await warmUp(probe, ['b0', 'b1']);
    probe.events.attempts.length = 0;
    // Attempt 1 fails, retry after 300 ms; attempt 2 fails, the next retry would be 900 ms later: past the deadline.
    const outcome = await probe.unary({ message: 'backoff', fail_code: Status.UNAVAILABLE }, { timeoutMs: 800 });
    expect(outcome.code).toBe(Status.UNAVAILABLE);
    expect(outcome.overshootMs).toBeLessThan(0);
    expect(probe.events.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    await probe.closeAndCheck();
  });

  it('while waiting for a reconnect backoff (every backend down): DEADLINE_EXCEEDED for wait-for-ready calls', async () => {
    const probe = openProbe(fleet.target, {
      serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }),
      initialReconnectBackoffMs: 2_000,
      maxReconnectBackoffMs: 5_000,
    });
    await warmUp(probe, ['b0', 'b1']);
    await Promise.all(fleet.backends.map((b) => b.crash()));
    await probe.waitForState(State.TRANSIENT_FAILURE);
    const outcomes = await Promise.all([300, 500, 700].map((ms) => probe.unary({ message: 'wfr' }, { timeoutMs: ms, waitForReady: true })));
    for (const o of outcomes) expect(o.code).toBe(Status.DEADLINE_EXCEEDED);
    await probe.closeAndCheck();
  });

  it('during connect (the backend accepts TCP but never speaks HTTP/2): DEADLINE_EXCEEDED; served once it answers', async () => {
    await fleet.setAddresses([HOSTS[0]]);
    fleet.backends[0]!.stop();
    const probe = openProbe(fleet.target, {
      serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }),
      minConnectTimeoutMs: 5_000,
    });
    const outcomes = await Promise.all([
      probe.unary({ message: 'connect-1' }, { timeoutMs: 400 }),
      probe.unary({ message: 'connect-2' }, { timeoutMs: 600, waitForReady: true }),
    ]);
    for (const o of outcomes) expect(o.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(probe.channel.getConnectivityState(false)).toBe(State.CONNECTING);
    fleet.backends[0]!.cont();
    await probe.waitForState(State.READY);
    await warmUp(probe, ['b0']);
    await probe.closeAndCheck();
  });

  it('mid-stream: a bidi stream whose second reply never comes ends DEADLINE_EXCEEDED with the first reply delivered', async () => {
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) });
    await warmUp(probe, ['b0', 'b1']);
    const outcome = await probe.bidi({ message: 'first' }, (call) => call.write({ message: 'second', hang: true }), { timeoutMs: 800 });
    expect(outcome.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(outcome.replies.map((r) => r.message)).toEqual(['first']);
    expect(outcome.overshootMs).toBeGreaterThanOrEqual(0);
    expect(outcome.overshootMs).toBeLessThanOrEqual(DEADLINE_SLACK_MS);
    await probe.closeAndCheck();
  });

  it('mid-stream: a server stream that never answers ends DEADLINE_EXCEEDED; the backend sees the cancellation', async () => {
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) });
    await warmUp(probe, ['b0', 'b1']);
    const outcomes = await Promise.all([0, 1].map(() => probe.serverStream({ message: 'slow', hang: true }, { timeoutMs: 600 })));
    for (const o of outcomes) expect(o.code).toBe(Status.DEADLINE_EXCEEDED);
    const cancelled = async () => {
      const stats = await Promise.all(fleet.backends.map((b) => b.stats()));
      return stats.reduce((n, s) => n + s.methods.ServerStream.cancelled, 0);
    };
    await waitFor(async () => (await cancelled()) === 2, 'the backends to see both streams end');
    await probe.closeAndCheck();
  });
});
