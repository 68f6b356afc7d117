/**
 * Bad input, server-controlled (issue "Faults"): any status code a server sends, valid gRPC code or not,
 * on any attempt, with or without response headers first. Under a retry or a hedging policy (gRFC A6)
 * and retry throttling, the call ends exactly once with a status from the server (or its own deadline),
 * never retries a non-retryable code or a committed attempt, never exceeds `maxAttempts`, keeps the
 * throttle within [0, maxTokens], and its counters match its events.
 */
import fc from 'fast-check';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeHost, hedgingPolicy, retryPolicy, Status, throttle } from '../../helpers/call-fakes';
import { runScriptedCall, type ServerReply } from '../../helpers/call-script';

/** Any code: the 17 gRPC codes (OK included) often, and out-of-range integers sometimes. */
const anyCode = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 16 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 17, max: 1_000 }), fc.integer({ min: -5, max: -1 }), fc.constant(2 ** 31 - 1)) },
);
const reply: fc.Arbitrary<ServerReply> = fc.record({
  code: anyCode,
  headersFirst: fc.constantFrom(false, false, true),
  delayMs: fc.constantFrom(0, 0, 5, 200),
});
const codeSet = fc.uniqueArray(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 4 }).map((codes) => new Set(codes));

let clock: sinon.SinonFakeTimers;
beforeEach(() => {
  clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => clock.restore());

function resetClock(): void {
  clock.reset();
  clock.setSystemTime(1_000_000);
}

/** What every call must satisfy, whatever the server said. */
function expectSane(host: FakeHost, result: Awaited<ReturnType<typeof runScriptedCall>>, deadline: number, maxAttempts: number, maxTokens: number): void {
  expect(result.listener.statuses).toHaveLength(1);
  expect(result.endedAt!).toBeLessThanOrEqual(deadline);
  expect(result.attempts).toBeLessThanOrEqual(maxAttempts);
  expect(clock.countTimers()).toBe(0);
  const tokens = host.throttle!.tokens;
  expect(tokens).toBeGreaterThanOrEqual(0);
  expect(tokens).toBeLessThanOrEqual(maxTokens);
  expect(host.recorded.attempts).toHaveLength(host.counters.attempts);
  expect(host.counters.throttled).toBe(host.recorded.throttled.length);
  expect(host.counters.succeeded + host.counters.failed).toBe(1);
  expect(host.retryBudget.bytesInUse).toBe(0);
}

describe('any status code under a retry policy', () => {
  it('is passed through; only an uncommitted retryable failure is retried; the throttle and counters stay consistent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reply, { minLength: 1, maxLength: 6 }), codeSet, fc.integer({ min: 2, max: 5 }), fc.integer({ min: 50, max: 5_000 }),
        async (replies, retryable, maxAttempts, timeoutMs) => {
          const host = new FakeHost();
          host.config = { retryPolicy: retryPolicy({ maxAttempts, retryableStatusCodes: retryable, initialBackoffMs: 10, maxBackoffMs: 100 }) };
          host.throttle = throttle(4, 0.5);
          const deadline = Date.now() + timeoutMs;
          const result = await runScriptedCall(clock, host, replies, deadline);
          expectSane(host, result, deadline, maxAttempts, 4);

          const status = result.listener.status;
          const last = replies[(result.attempts - 1) % replies.length]!;
          if (status.code !== Status.DEADLINE_EXCEEDED || last.code === Status.DEADLINE_EXCEEDED) {
            // The call's status is its last attempt's, code and all.
            expect(status.code).toBe(last.code);
          }
          // Every attempt before the last failed with a retryable code, uncommitted.
          for (let i = 0; i < result.attempts - 1; i++) {
            const earlier = replies[i % replies.length]!;
            expect(retryable.has(earlier.code)).toBe(true);
            expect(earlier.headersFirst).toBe(false);
          }
          expect(host.counters.retries).toBe(result.attempts - 1);
          expect(host.recorded.backoffs.length).toBeGreaterThanOrEqual(host.counters.retries);
          resetClock();
        }),
      { numRuns: 400 },
    );
  });
});

describe('any status code under a hedging policy', () => {
  it('ends once with a server status or its deadline; a fatal code or OK ends it; never more than maxAttempts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reply, { minLength: 1, maxLength: 6 }), codeSet, fc.integer({ min: 2, max: 5 }), fc.integer({ min: 50, max: 5_000 }),
        async (replies, nonFatal, maxAttempts, timeoutMs) => {
          const host = new FakeHost();
          host.config = { hedgingPolicy: hedgingPolicy({ maxAttempts, nonFatalStatusCodes: nonFatal, hedgingDelayMs: 20 }) };
          host.throttle = throttle(4, 0.5);
          const deadline = Date.now() + timeoutMs;
          const result = await runScriptedCall(clock, host, replies, deadline);
          expectSane(host, result, deadline, maxAttempts, 4);
          const code = result.listener.status.code;
          const sent = replies.slice(0, result.attempts).map((r) => r.code);
          expect(code === Status.DEADLINE_EXCEEDED || code === Status.CANCELLED || sent.includes(code)).toBe(true);
          expect(host.counters.hedges).toBe(result.attempts - 1);
          resetClock();
        }),
      { numRuns: 400 },
    );
  });
});
