/**
 * The caller cancels a call in each phase: queued for a pick, waiting out a retry backoff, in flight,
 * and hedged (several attempts in flight). The call ends CANCELLED at once, nothing more is sent for
 * it, the backends see every started attempt end, and the channel stays usable.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  failures, HOSTS, openProbe, retryPolicy, serviceConfig, sleep, startFleet, State, Status, waitFor, warmUp,
  type Fleet, type Probe,
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

/** Unary calls the backends have started, and how many of them ended by cancellation. */
async function backendCounts(): Promise<{ calls: number; cancelled: number }> {
  const stats = await Promise.all(fleet.backends.map((b) => b.stats()));
  return stats.reduce((sum, s) => ({ calls: sum.calls + s.methods.Unary.calls, cancelled: sum.cancelled + s.methods.Unary.cancelled }), { calls: 0, cancelled: 0 });
}

/** A call the test cancels later: the outcome promise and a function that cancels it. */
function cancellable(probe: Probe, request: Parameters<Probe['unary']>[0], waitForReady = false): { outcome: ReturnType<Probe['unary']>; cancel(): void } {
  let call: grpc.Call | undefined;
  const outcome = probe.unary(request, { timeoutMs: 10_000, waitForReady, onCall: (c) => (call = c) });
  return { outcome, cancel: () => call!.cancel() };
}

/** The channel still serves after the cancellation. */
async function stillServes(probe: Probe): Promise<void> {
  const after = await probe.unary({ message: 'after' }, { timeoutMs: 5_000, waitForReady: true });
  expect(failures([after])).toEqual([]);
}

describe('the caller cancels', () => {
  it('while the call is queued for a pick (the only backend is connecting): CANCELLED, no attempt is ever sent', async () => {
    await fleet.setAddresses([HOSTS[0]]);
    fleet.backends[0]!.stop();
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }), minConnectTimeoutMs: 5_000 });
    const call = cancellable(probe, { message: 'queued' }, true);
    await waitFor(() => probe.channel.getConnectivityState(false) === State.CONNECTING, 'the channel to connect');
    await sleep(100);
    call.cancel();
    const outcome = await call.outcome;
    expect(outcome.code).toBe(Status.CANCELLED);
    expect(outcome.overshootMs).toBeLessThan(-5_000);
    expect(probe.events.attempts).toEqual([]);

    fleet.backends[0]!.cont();
    await stillServes(probe);
    expect((await backendCounts()).calls).toBe(1);
    await probe.closeAndCheck();
  });

  it('during a retry backoff: CANCELLED, and the pending retry never starts', async () => {
    const probe = openProbe(fleet.target, {
      serviceConfig: serviceConfig({ retryPolicy: retryPolicy({ initialBackoff: '0.6s', maxBackoff: '1s' }) }),
    });
    await warmUp(probe, ['b0', 'b1']);
    await Promise.all(fleet.backends.map((b) => b.resetStats()));
    probe.events.attempts.length = 0;

    const call = cancellable(probe, { message: 'backoff', fail_code: Status.UNAVAILABLE });
    await waitFor(() => probe.events.backoffs.length === 1, 'the first attempt to fail and a retry to be scheduled');
    call.cancel();
    const outcome = await call.outcome;
    expect(outcome.code).toBe(Status.CANCELLED);
    // Past the moment the retry was due: still one attempt, on the client and on the backends.
    await sleep(1_000);
    expect(probe.events.attempts).toHaveLength(1);
    expect((await backendCounts()).calls).toBe(1);
    await stillServes(probe);
    await probe.closeAndCheck();
  });

  it('in flight: CANCELLED, and the backend sees the call cancelled', async () => {
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) });
    await warmUp(probe, ['b0', 'b1']);
    await Promise.all(fleet.backends.map((b) => b.resetStats()));

    const call = cancellable(probe, { message: 'in-flight', hang: true });
    await waitFor(async () => (await backendCounts()).calls === 1, 'the backend to receive the call');
    call.cancel();
    expect((await call.outcome).code).toBe(Status.CANCELLED);
    await waitFor(async () => (await backendCounts()).cancelled === 1, 'the backend to see the cancellation');
    await stillServes(probe);
    await probe.closeAndCheck();
  });

  it('while hedged (three attempts in flight): CANCELLED, every attempt is cancelled on its backend, no further hedge', async () => {
    const probe = openProbe(fleet.target, {
      serviceConfig: serviceConfig({ hedgingPolicy: { maxAttempts: 4, hedgingDelay: '0.15s', nonFatalStatusCodes: ['UNAVAILABLE'] } }),
    });
    await warmUp(probe, ['b0', 'b1']);
    await Promise.all(fleet.backends.map((b) => b.resetStats()));
    const before = probe.channel.stats();

    const call = cancellable(probe, { message: 'hedged', hang: true });
    await waitFor(async () => (await backendCounts()).calls === 3, 'three hedged attempts to reach the backends');
    call.cancel();
    expect((await call.outcome).code).toBe(Status.CANCELLED);
    await waitFor(async () => (await backendCounts()).cancelled === 3, 'the backends to see all three attempts cancelled');
    // The fourth hedge was due 150 ms later: it never comes.
    await sleep(400);
    expect((await backendCounts()).calls).toBe(3);
    expect(probe.channel.stats().hedges - before.hedges).toBe(2);
    await stillServes(probe);
    await probe.closeAndCheck();
  });
});
