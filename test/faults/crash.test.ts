/**
 * Backends that die or hang under load: SIGKILL during unary and streaming calls, SIGSTOP (the process
 * hangs, its TCP connections stay half-open) then SIGCONT.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  failures, openProbe, retryPolicy, served, serviceConfig, servedBy, sleep, startFleet, State, Status, waitFor, warmUp,
  type Fleet, type Outcome,
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

/** Wait until `backend` has started at least `n` unary handlers (they are in flight: the requests are slow). */
async function inFlightOn(index: number, n: number): Promise<void> {
  await waitFor(async () => (await served(fleet.backends[index]!)) >= n, `b${index} to receive ${n} calls`, 10_000, 10);
}

describe('a backend SIGKILLed', () => {
  it('mid-unary: every in-flight idempotent call is retried on the surviving backend and succeeds', async () => {
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) });
    await warmUp(probe, ['b0', 'b1']);
    await Promise.all(fleet.backends.map((b) => b.resetStats()));

    const calls = Array.from({ length: 20 }, (_, i) => probe.unary({ message: `c${i}`, delay_ms: 600 }, { timeoutMs: 10_000 }));
    await inFlightOn(0, 5);
    const final = await fleet.backends[0]!.crash();
    const outcomes = await Promise.all(calls);

    // Expected: nothing is lost. The calls b0 had taken fail with UNAVAILABLE (connection reset) and,
    // being uncommitted (no response headers yet), are retried on b1.
    expect(failures(outcomes)).toEqual([]);
    expect(final?.methods.Unary.calls).toBeGreaterThanOrEqual(5);
    const retried = outcomes.filter((o) => o.replies[0]!.attempt > 0);
    expect(retried.length).toBeGreaterThanOrEqual(final!.methods.Unary.calls);
    expect(new Set(servedBy(retried))).toEqual(new Set(['b1']));
    expect(probe.channel.getConnectivityState(false)).toBe(State.READY);

    // Back on the same port: the channel reconnects and b0 serves again.
    await fleet.backends[0]!.restart();
    await warmUp(probe, ['b0']);
    await probe.closeAndCheck();
  });

  it('mid-stream before any response: the stream is retried elsewhere and delivers every message', async () => {
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) });
    await warmUp(probe, ['b0', 'b1']);
    await Promise.all(fleet.backends.map((b) => b.resetStats()));

    const streams = Array.from({ length: 6 }, (_, i) =>
      probe.serverStream({ message: `s${i}`, delay_ms: 600, response_count: 3 }, { timeoutMs: 10_000 }));
    await waitFor(async () => (await fleet.backends[0]!.stats()).methods.ServerStream.calls >= 2, 'streams on b0', 10_000, 10);
    await fleet.backends[0]!.crash();
    const outcomes = await Promise.all(streams);

    expect(failures(outcomes)).toEqual([]);
    for (const o of outcomes) expect(o.replies).toHaveLength(3);
    await probe.closeAndCheck();
  });

  it('mid-stream after a response (committed): the call ends promptly with UNAVAILABLE, it is not replayed', async () => {
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) });
    await warmUp(probe, ['b0', 'b1']);
    // Only b0 is in DNS for this one, so the stream surely goes there.
    await fleet.setAddresses(['127.0.0.2']);
    await waitFor(() => probe.events.resolutions.at(-1)?.length === 1, 'the resolver to drop b1', 10_000);

    let crashed: Promise<unknown> | undefined;
    const outcome = await probe.bidi({ message: 'first' }, () => {
      crashed = fleet.backends[0]!.crash();
    }, { timeoutMs: 10_000 });
    await crashed;

    // gRFC A6: a call is committed once the response headers arrived; a committed call is never
    // retried, so the stream fails, with the reply it had, and well before its deadline.
    expect(outcome.code).toBe(Status.UNAVAILABLE);
    expect(outcome.replies.map((r) => r.message)).toEqual(['first']);
    expect(outcome.overshootMs).toBeLessThan(-5_000);
    const bidiAttempts = probe.events.attempts.filter((a) => a.method.endsWith('/Bidi'));
    expect(bidiAttempts).toEqual([expect.objectContaining({ attempt: 1, committed: true, code: Status.UNAVAILABLE })]);
    await probe.closeAndCheck();
  });
});

describe('a backend SIGSTOPped (hung, half-open connections) then SIGCONTed', () => {
  it('with keepalive: calls on the hung backend fail over and are retried; the backend serves again after SIGCONT', async () => {
    const probe = openProbe(fleet.target, {
      serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }),
      // Without keepalive a half-open connection is only noticed when the deadline ends the call.
      channelOptions: { 'grpc.keepalive_time_ms': 300, 'grpc.keepalive_timeout_ms': 300 },
    });
    await warmUp(probe, ['b0', 'b1']);
    await Promise.all(fleet.backends.map((b) => b.resetStats()));

    const calls = Array.from({ length: 10 }, (_, i) => probe.unary({ message: `c${i}`, delay_ms: 400 }, { timeoutMs: 10_000 }));
    await inFlightOn(0, 3);
    fleet.backends[0]!.stop();
    const outcomes: Outcome[] = await Promise.all(calls);
    // More calls while b0 is frozen: its reconnect attempts time out (TCP accepts, HTTP/2 never answers).
    for (let i = 0; i < 10; i++) outcomes.push(await probe.unary({ message: `d${i}` }, { timeoutMs: 5_000 }));

    expect(failures(outcomes)).toEqual([]);
    expect(servedBy(outcomes).filter((id) => id === 'b0')).toEqual([]);
    expect(probe.channel.getConnectivityState(false)).toBe(State.READY);

    fleet.backends[0]!.cont();
    await warmUp(probe, ['b0'], 20_000);
    await probe.closeAndCheck();
  });

  it('with hedging and no keepalive: a hedge on the other backend answers while the first attempt hangs', async () => {
    const probe = openProbe(fleet.target, {
      serviceConfig: serviceConfig({
        hedgingPolicy: { maxAttempts: 2, hedgingDelay: '0.2s', nonFatalStatusCodes: ['UNAVAILABLE'] },
      }),
    });
    await warmUp(probe, ['b0', 'b1']);
    fleet.backends[0]!.stop();

    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => probe.unary({ message: `h${i}` }, { timeoutMs: 5_000 })));
    expect(failures(outcomes)).toEqual([]);
    expect(new Set(servedBy(outcomes))).toEqual(new Set(['b1']));

    fleet.backends[0]!.cont();
    await warmUp(probe, ['b0'], 20_000);
    // The losing attempts on b0 were cancelled; give their statuses a moment before counting.
    await sleep(100);
    await probe.closeAndCheck();
  });
});
