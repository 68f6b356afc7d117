/**
 * ResilientCall under a retry policy (gRFC A6 "Retry Policy", "Pushback", "Throttling"), driven by a
 * fake channel side and sinon fake timers: exact backoff timing, pushback, throttle and deadline.
 */
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeHost, retryPolicy, startCall, Status, throttle } from '../../helpers/call-fakes';

let clock: sinon.SinonFakeTimers;
let host: FakeHost;

beforeEach(() => {
  clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  host = new FakeHost();
});
afterEach(() => {
  clock.restore();
});

describe('backoff', () => {
  it('waits initialBackoff × multiplier^(n-1), capped at maxBackoff (jitter factor 1 with random() = 0.5)', async () => {
    host.config = { retryPolicy: retryPolicy({ maxAttempts: 5, initialBackoffMs: 100, backoffMultiplier: 2, maxBackoffMs: 300 }) };
    const { listener } = startCall(host);
    const expected = [100, 200, 300, 300];
    for (const [i, delay] of expected.entries()) {
      host.last().end(Status.UNAVAILABLE, `attempt ${i + 1}`);
      expect(host.calls).toHaveLength(i + 1);
      await clock.tickAsync(delay - 1);
      expect(host.calls).toHaveLength(i + 1);
      await clock.tickAsync(1);
      expect(host.calls).toHaveLength(i + 2);
      // gRFC A6: the retry tells the server how many attempts came before it.
      expect(host.last().previousAttempts).toBe(String(i + 1));
    }
    expect(host.calls[0]!.previousAttempts).toBeUndefined();
    expect(host.recorded.backoffs.map((e) => [e.nextAttempt, e.delayMs, e.pushback])).toEqual([
      [2, 100, false], [3, 200, false], [4, 300, false], [5, 300, false],
    ]);
    host.last().end(Status.UNAVAILABLE, 'attempt 5');
    expect(listener.status).toMatchObject({ code: Status.UNAVAILABLE, details: 'attempt 5' });
    expect(clock.countTimers()).toBe(0);
    expect(host.counters).toMatchObject({ attempts: 5, retries: 4, failed: 1 });
  });

  it('applies ±20 % jitter', async () => {
    host.config = { retryPolicy: retryPolicy({ initialBackoffMs: 100 }) };
    (host as { random: () => number }).random = () => 0;
    startCall(host);
    host.last().end(Status.UNAVAILABLE);
    await clock.tickAsync(79);
    expect(host.calls).toHaveLength(1);
    await clock.tickAsync(1);
    expect(host.calls).toHaveLength(2);
  });

  it('re-picks for a retry, preferring a subchannel the call has not used', async () => {
    host.config = { retryPolicy: retryPolicy() };
    startCall(host);
    host.last().end(Status.UNAVAILABLE);
    await clock.tickAsync(100);
    expect(host.calls.map((c) => c.subchannel.key)).toEqual(['127.0.0.1:1001', '127.0.0.1:1002']);
  });

  it('does not retry past maxAttempts or on a code outside retryableStatusCodes', async () => {
    host.config = { retryPolicy: retryPolicy({ maxAttempts: 2 }) };
    const a = startCall(host);
    host.last().end(Status.INTERNAL, 'not retryable');
    expect(a.listener.status.code).toBe(Status.INTERNAL);
    const b = startCall(host);
    host.last().end(Status.UNAVAILABLE);
    await clock.tickAsync(100);
    host.last().end(Status.UNAVAILABLE, 'second');
    expect(b.listener.status.details).toBe('second');
    expect(host.calls).toHaveLength(3);
    expect(clock.countTimers()).toBe(0);
  });
});

describe('pushback', () => {
  it('retries after exactly the pushback and restarts the backoff sequence', async () => {
    host.config = { retryPolicy: retryPolicy({ maxAttempts: 5, initialBackoffMs: 100, backoffMultiplier: 2 }) };
    startCall(host);
    host.last().end(Status.UNAVAILABLE); // backoff 100 (n = 1)
    await clock.tickAsync(100);
    host.last().end(Status.UNAVAILABLE); // backoff 200 (n = 2)
    await clock.tickAsync(200);
    host.last().end(Status.UNAVAILABLE, '', { 'grpc-retry-pushback-ms': '500' });
    await clock.tickAsync(499);
    expect(host.calls).toHaveLength(3);
    await clock.tickAsync(1);
    expect(host.calls).toHaveLength(4);
    // After a pushback the next backoff is initialBackoff again, not 400.
    host.last().end(Status.UNAVAILABLE);
    expect(host.recorded.backoffs.map((e) => [e.delayMs, e.pushback])).toEqual([[100, false], [200, false], [500, true], [100, false]]);
  });

  it('a pushback of 0 retries at once', async () => {
    host.config = { retryPolicy: retryPolicy() };
    startCall(host);
    host.last().end(Status.UNAVAILABLE, '', { 'grpc-retry-pushback-ms': '0' });
    await clock.tickAsync(0);
    expect(host.calls).toHaveLength(2);
  });

  it.each(['-1', 'soon', '1.5'])('does not retry on the pushback %j, and counts it against the throttle', (value) => {
    host.config = { retryPolicy: retryPolicy() };
    host.throttle = throttle(10);
    const { listener } = startCall(host);
    host.last().end(Status.UNAVAILABLE, 'stop', { 'grpc-retry-pushback-ms': value });
    expect(listener.status.code).toBe(Status.UNAVAILABLE);
    expect(host.throttle.tokens).toBe(9);
    expect(clock.countTimers()).toBe(0);
  });
});

describe('throttling', () => {
  it('refuses a retry at once while tokens <= maxTokens / 2', async () => {
    host.config = { retryPolicy: retryPolicy() };
    host.throttle = throttle(10);
    for (let i = 0; i < 4; i++) host.throttle.recordFailure();
    const { listener } = startCall(host);
    host.last().end(Status.UNAVAILABLE, 'refused');
    expect(listener.status.details).toBe('refused');
    expect(host.recorded.throttled).toEqual([{ method: '/test.Svc/Method', kind: 'retry', tokens: 5 }]);
    expect(host.counters.throttled).toBe(1);
    expect(clock.countTimers()).toBe(0);
  });

  it('a success adds tokenRatio; calls without a policy leave the bucket alone', () => {
    host.config = { retryPolicy: retryPolicy() };
    host.throttle = throttle(10, 0.5);
    host.throttle.recordFailure();
    startCall(host);
    host.last().end(Status.OK);
    expect(host.throttle.tokens).toBe(9.5);
    host.config = undefined;
    startCall(host);
    host.last().end(Status.UNAVAILABLE);
    expect(host.throttle.tokens).toBe(9.5);
  });

  it('a committed attempt still counts its retryable failure', () => {
    host.config = { retryPolicy: retryPolicy() };
    host.throttle = throttle(10);
    startCall(host);
    host.last().respondHeaders();
    host.last().end(Status.UNAVAILABLE);
    expect(host.throttle.tokens).toBe(9);
  });
});

describe('deadline', () => {
  it('ends at once with the last status when the next retry could only start after the deadline', async () => {
    host.config = { retryPolicy: retryPolicy({ initialBackoffMs: 100, backoffMultiplier: 2 }) };
    const { listener } = startCall(host, { deadline: Date.now() + 250 });
    host.last().end(Status.UNAVAILABLE, 'one'); // retry at +100
    await clock.tickAsync(100);
    host.last().end(Status.UNAVAILABLE, 'two'); // +100 + 200 >= +250: no retry
    expect(listener.status).toMatchObject({ code: Status.UNAVAILABLE, details: 'two' });
    expect(clock.countTimers()).toBe(0);
  });

  it('gives every attempt the same absolute deadline', async () => {
    host.config = { retryPolicy: retryPolicy() };
    const deadline = Date.now() + 5_000;
    startCall(host, { deadline });
    host.last().end(Status.UNAVAILABLE);
    await clock.tickAsync(100);
    expect(host.calls.map((c) => c.deadline)).toEqual([deadline, deadline]);
  });

  it('the method timeout and the caller deadline: the earlier wins', () => {
    host.config = { timeoutMs: 300, retryPolicy: retryPolicy() };
    startCall(host, { deadline: Date.now() + 1_000 });
    expect(host.last().deadline).toBe(Date.now() + 300);
    startCall(host, { deadline: Date.now() + 200 });
    expect(host.last().deadline).toBe(Date.now() + 200);
  });

  it('fires during the wait for a pick after a backoff', async () => {
    host.config = { retryPolicy: retryPolicy() };
    const { listener } = startCall(host, { deadline: Date.now() + 1_000 });
    host.last().end(Status.UNAVAILABLE);
    host.pickResult = () => ({ type: 'queue' });
    await clock.tickAsync(100);
    expect(host.queued.size).toBe(1);
    await clock.tickAsync(899);
    expect(listener.statuses).toEqual([]);
    await clock.tickAsync(1);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(listener.status).toMatchObject({ code: Status.DEADLINE_EXCEEDED, details: 'Deadline exceeded after 1000 ms (1 attempt(s))' });
    expect(host.queued.size).toBe(0);
    expect(host.counters.deadlineExceeded).toBe(1);
    expect(clock.countTimers()).toBe(0);
  });
});
