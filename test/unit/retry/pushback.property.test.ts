/**
 * Bad input, server-controlled (issue "Faults"): any `grpc-retry-pushback-ms` trailer a server sends.
 * gRFC A6 "Pushback": a non-negative int32 is the delay before the retry; anything else means "do not
 * retry". Whatever the value, the client never makes more than `maxAttempts` attempts, never waits past
 * the call's deadline, ends the call exactly once and leaves no timer behind.
 */
import { Metadata } from '@grpc/grpc-js';
import fc from 'fast-check';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideRetry } from '../../../src/retry/decision';
import { MAX_PUSHBACK_MS, PUSHBACK_ABSENT, PUSHBACK_KEY, PUSHBACK_STOP, parsePushback } from '../../../src/retry/pushback';
import { RetryThrottle } from '../../../src/retry/throttle';
import { FakeHost, retryPolicy, Status } from '../../helpers/call-fakes';
import { runScriptedCall } from '../../helpers/call-script';

/** Pushback values a server might send: numbers of every size and sign, near-numbers and junk. */
const pushbackValue = fc.oneof(
  fc.nat({ max: 5_000 }).map(String),
  fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
  fc.integer().map(String),
  fc.constantFrom('', ' ', '1e3', '0x10', '+5', '-0', '1.5', '007', ' 100', '100 ', 'NaN', 'Infinity', '2147483647', '2147483648'),
  fc.string({ maxLength: 12 }),
);

function metadataWith(values: readonly string[]): Metadata {
  const metadata = new Metadata();
  for (const value of values) metadata.add(PUSHBACK_KEY, value);
  return metadata;
}

describe('parsePushback on any trailer values', () => {
  it('is a delay in [0, 2^31 - 1] exactly when every value is the same plain decimal in range; else absent or stop', () => {
    fc.assert(
      fc.property(fc.array(pushbackValue, { maxLength: 3 }), (values) => {
        let metadata: Metadata;
        try {
          metadata = metadataWith(values);
        } catch {
          return; // grpc-js refuses the value (e.g. a control character): it never reaches the parser
        }
        const parsed = parsePushback(metadata);
        if (values.length === 0) {
          expect(parsed).toBe(PUSHBACK_ABSENT);
          return;
        }
        const plain = values.every((v) => /^\d+$/.test(v) && BigInt(v) <= BigInt(MAX_PUSHBACK_MS));
        const same = values.every((v) => plain && Number(v) === Number(values[0]));
        if (plain && same) expect(parsed).toBe(Number(values[0]));
        else expect(parsed).toBe(PUSHBACK_STOP);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('decideRetry with any pushback', () => {
  it('never retries past maxAttempts or the deadline, and waits exactly the pushback when it retries on one', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(PUSHBACK_ABSENT, PUSHBACK_STOP), fc.integer({ min: 0, max: MAX_PUSHBACK_MS })),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 2, max: 5 }),
        fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 10_000_000 })),
        fc.boolean(),
        (pushback, attempts, maxAttempts, remaining, throttled) => {
          const now = 1_000_000;
          const throttle = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
          if (throttled) for (let i = 0; i < 6; i++) throttle.recordFailure();
          const decision = decideRetry({
            policy: retryPolicy({ maxAttempts }), code: Status.UNAVAILABLE, attempts, pushback,
            retriesSinceReset: 0, throttle, deadline: now + remaining, now, random: () => 0.5,
          });
          expect(throttle.tokens).toBeGreaterThanOrEqual(0);
          if (typeof decision !== 'number') return;
          expect(attempts).toBeLessThan(maxAttempts);
          expect(pushback).not.toBe(PUSHBACK_STOP);
          expect(throttled).toBe(false);
          expect(now + decision).toBeLessThan(now + remaining);
          if (pushback >= 0) expect(decision).toBe(pushback);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});

describe('a call whose server answers every attempt with RESOURCE_EXHAUSTED and any pushback, at once or after a delay', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  it('ends once, by its deadline, within maxAttempts, with the server status or DEADLINE_EXCEEDED; no timer is left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.array(pushbackValue, { maxLength: 2 }), fc.constantFrom(0, 0, 10, 500)), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 100_000 }),
        async (pushbacks, maxAttempts, timeoutMs) => {
          const host = new FakeHost();
          host.config = { retryPolicy: retryPolicy({ maxAttempts, retryableStatusCodes: new Set([Status.RESOURCE_EXHAUSTED]) }) };
          const start = Date.now();
          const deadline = start + timeoutMs;
          const replies = pushbacks.map(([pushback, delayMs]) => ({ code: Status.RESOURCE_EXHAUSTED, pushback, delayMs }));
          const { listener, endedAt, attempts } = await runScriptedCall(clock, host, replies, deadline);
          expect(listener.statuses).toHaveLength(1);
          expect([Status.RESOURCE_EXHAUSTED, Status.DEADLINE_EXCEEDED]).toContain(listener.status.code);
          expect(endedAt!).toBeLessThanOrEqual(deadline);
          expect(attempts).toBeLessThanOrEqual(maxAttempts);
          expect(clock.countTimers()).toBe(0);
          // Every retry on a pushback waited exactly the pushback.
          for (const backoff of host.recorded.backoffs.filter((b) => b.pushback)) {
            expect(Number.isInteger(backoff.delayMs) && backoff.delayMs >= 0 && backoff.delayMs <= MAX_PUSHBACK_MS).toBe(true);
          }
          clock.reset();
          clock.setSystemTime(1_000_000);
        },
      ),
      { numRuns: 300 },
    );
  });
});
