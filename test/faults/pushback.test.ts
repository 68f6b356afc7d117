/**
 * A backend answering RESOURCE_EXHAUSTED with a `grpc-retry-pushback-ms` trailer (gRFC A6 "Pushback"):
 * a sane value delays the retry by exactly that much; a huge one cannot make the client wait past the
 * call's deadline; an invalid one means "do not retry".
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { failures, openProbe, retryPolicy, serviceConfig, startFleet, Status, warmUp, type Fleet } from '../helpers/fault-harness';

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

const RESOURCE_EXHAUSTED = Status.RESOURCE_EXHAUSTED;
const config = { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) };

describe('RESOURCE_EXHAUSTED with pushback', () => {
  it('a 300 ms pushback: the retry waits exactly that long (not the policy backoff) and succeeds', async () => {
    const probe = openProbe(fleet.target, config);
    await warmUp(probe, ['b0', 'b1']);
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        probe.unary({ message: `p${i}`, fail_code: RESOURCE_EXHAUSTED, pushback_ms: '300', fail_attempts: 1 }, { timeoutMs: 5_000 })),
    );
    expect(failures(outcomes)).toEqual([]);
    for (const o of outcomes) {
      expect(o.replies[0]!.attempt).toBe(1);
      expect(o.endedAt - started).toBeGreaterThanOrEqual(300);
    }
    const pushbacks = probe.events.backoffs.filter((b) => b.pushback);
    expect(pushbacks.map((b) => b.delayMs)).toEqual(Array(8).fill(300));
    await probe.closeAndCheck();
  });

  it('a huge pushback (int32 max): the call ends at once with RESOURCE_EXHAUSTED instead of waiting past its deadline', async () => {
    const probe = openProbe(fleet.target, config);
    await warmUp(probe, ['b0', 'b1']);
    probe.events.attempts.length = 0;
    const outcome = await probe.unary({ message: 'huge', fail_code: RESOURCE_EXHAUSTED, pushback_ms: '2147483647' }, { timeoutMs: 5_000 });
    expect(outcome.code).toBe(RESOURCE_EXHAUSTED);
    // Ended well before the deadline, after one attempt, with no retry scheduled.
    expect(outcome.overshootMs).toBeLessThan(-2_000);
    expect(probe.events.attempts).toHaveLength(1);
    expect(probe.events.backoffs).toEqual([]);
    await probe.closeAndCheck();
  });

  it.each([
    ['above int32', '99999999999'],
    ['negative', '-1'],
    ['not a number', 'soon'],
  ])('a pushback %s means "do not retry": one attempt, the server status', async (_name, value) => {
    const probe = openProbe(fleet.target, config);
    await warmUp(probe, ['b0', 'b1']);
    probe.events.attempts.length = 0;
    const outcome = await probe.unary({ message: 'stop', fail_code: RESOURCE_EXHAUSTED, pushback_ms: value }, { timeoutMs: 5_000 });
    expect(outcome.code).toBe(RESOURCE_EXHAUSTED);
    expect(probe.events.attempts).toHaveLength(1);
    expect(probe.events.backoffs).toEqual([]);
    await probe.closeAndCheck();
  });

  it('repeated pushbacks never exceed maxAttempts', async () => {
    const probe = openProbe(fleet.target, config);
    await warmUp(probe, ['b0', 'b1']);
    probe.events.attempts.length = 0;
    const outcome = await probe.unary({ message: 'again', fail_code: RESOURCE_EXHAUSTED, pushback_ms: '0' }, { timeoutMs: 5_000 });
    expect(outcome.code).toBe(RESOURCE_EXHAUSTED);
    expect(probe.events.attempts).toHaveLength(5);
    expect(Math.max(...probe.events.attempts.map((a) => a.attempt))).toBe(5);
    await probe.closeAndCheck();
  });
});
