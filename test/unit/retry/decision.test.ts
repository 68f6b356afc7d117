import { status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock';
import type { HedgingPolicy, RetryPolicy } from '../../../src/config/types';
import { decideRetry, type RetryAttemptFailure } from '../../../src/retry/decision';
import { hedgeStartBlocker, onHedgeFailure } from '../../../src/retry/hedge-decision';
import { PUSHBACK_ABSENT, PUSHBACK_STOP } from '../../../src/retry/pushback';
import { RetryThrottle } from '../../../src/retry/throttle';

const retryPolicy: RetryPolicy = {
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 1000,
  backoffMultiplier: 2,
  retryableStatusCodes: new Set([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED]),
};

const hedgingPolicy: HedgingPolicy = {
  maxAttempts: 3,
  hedgingDelayMs: 500,
  nonFatalStatusCodes: new Set([status.UNAVAILABLE]),
};

/** A throttle (maxTokens 10) holding `tokens` tokens. */
function throttleAt(tokens: number): RetryThrottle {
  const t = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
  for (let i = 10; i > tokens; i--) t.recordFailure();
  return t;
}

let clock: sinon.SinonFakeTimers;
beforeEach(() => {
  clock = sinon.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => clock.restore());

function failure(over: Partial<RetryAttemptFailure> = {}): RetryAttemptFailure {
  return {
    policy: retryPolicy,
    code: status.UNAVAILABLE,
    attempts: 1,
    pushback: PUSHBACK_ABSENT,
    retriesSinceReset: 0,
    throttle: undefined,
    deadline: Infinity,
    now: systemClock.now(),
    random: () => 0,
    ...over,
  };
}

describe('decideRetry (gRFC A6 retry policy)', () => {
  it.each<[string, Partial<RetryAttemptFailure>, number | string]>([
    ['first failure, backoff n=1 at random 0', {}, 80],
    ['third retry since reset, n=3', { attempts: 3, retriesSinceReset: 2 }, 320],
    ['backoff capped at maxBackoff', { attempts: 3, retriesSinceReset: 9 }, 800],
    ['jitter at random 0.5', { random: () => 0.5 }, 100],
    ['pushback delay used exactly', { pushback: 250, random: () => 0.99 }, 250],
    ['pushback 0: retry at once', { pushback: 0 }, 0],
    ['other retryable code', { code: status.RESOURCE_EXHAUSTED }, 80],
    ['not retryable code', { code: status.INVALID_ARGUMENT }, 'not-retryable-code'],
    ['not retryable code wins over pushback', { code: status.INTERNAL, pushback: 10 }, 'not-retryable-code'],
    ['attempts exhausted', { attempts: 4 }, 'max-attempts'],
    ['pushback never exceeds maxAttempts', { attempts: 4, pushback: 10 }, 'max-attempts'],
    ['pushback stop', { pushback: PUSHBACK_STOP }, 'pushback-stop'],
    ['throttle at 6 drops to 5: throttled', { throttle: throttleAt(6) }, 'throttled'],
    ['throttle at 7 drops to 6: allowed', { throttle: throttleAt(7) }, 80],
    ['retry would start exactly at the deadline', { deadline: 1_000_080 }, 'deadline'],
    ['retry starts just before the deadline', { deadline: 1_000_081 }, 80],
    ['pushback beyond the deadline', { pushback: 5000, deadline: 1_001_000 }, 'deadline'],
    ['deadline already passed', { deadline: 999_999, pushback: 0 }, 'deadline'],
  ])('%s', (_name, over, expected) => {
    expect(decideRetry(failure(over))).toBe(expected);
  });

  it.each<[string, Partial<RetryAttemptFailure>, number]>([
    ['retryable code', {}, 9],
    ['retryable code, attempts exhausted', { attempts: 4 }, 9],
    ['retryable code with pushback stop', { pushback: PUSHBACK_STOP }, 9],
    ['non-retryable code with pushback stop', { code: status.INTERNAL, pushback: PUSHBACK_STOP }, 9],
    ['non-retryable code', { code: status.INVALID_ARGUMENT }, 10],
    ['non-retryable code with a pushback delay', { code: status.INVALID_ARGUMENT, pushback: 5 }, 10],
  ])('throttle accounting: %s → %d tokens', (_name, over, tokens) => {
    const throttle = throttleAt(10);
    decideRetry(failure({ ...over, throttle }));
    expect(throttle.tokens).toBe(tokens);
  });

  it('walks a call: backoff, pushback (resets the count), backoff from initialBackoff again, then max-attempts', () => {
    const pushbacks = [PUSHBACK_ABSENT, 300, PUSHBACK_ABSENT, PUSHBACK_ABSENT];
    const delays: Array<number | string> = [];
    let retriesSinceReset = 0;
    for (let attempts = 1; attempts <= 4; attempts++) {
      const pushback = pushbacks[attempts - 1]!;
      const d = decideRetry(failure({ attempts, pushback, retriesSinceReset, now: systemClock.now() }));
      delays.push(d);
      if (typeof d !== 'number') break;
      retriesSinceReset = pushback >= 0 ? 0 : retriesSinceReset + 1;
      clock.tick(d);
    }
    expect(delays).toEqual([80, 300, 80, 'max-attempts']);
    expect(systemClock.now()).toBe(1_000_460);
  });
});

describe('onHedgeFailure (gRFC A6 hedging policy)', () => {
  it.each<[string, status, number, number | string, number]>([
    ['non-fatal: next hedge now', status.UNAVAILABLE, PUSHBACK_ABSENT, 0, 9],
    ['non-fatal with pushback: next hedge after it', status.UNAVAILABLE, 300, 300, 9],
    ['non-fatal with pushback stop: no more hedges', status.UNAVAILABLE, PUSHBACK_STOP, 'stop', 9],
    ['fatal: commit to this failure', status.INTERNAL, PUSHBACK_ABSENT, 'fatal', 10],
    ['fatal with a pushback delay', status.INTERNAL, 300, 'fatal', 10],
    ['fatal with pushback stop counts as a throttle failure', status.INTERNAL, PUSHBACK_STOP, 'fatal', 9],
  ])('%s', (_name, code, pushback, expected, tokens) => {
    const throttle = throttleAt(10);
    expect(onHedgeFailure(hedgingPolicy, code, pushback, throttle)).toBe(expected);
    expect(throttle.tokens).toBe(tokens);
    expect(onHedgeFailure(hedgingPolicy, code, pushback, undefined)).toBe(expected);
  });
});

describe('hedgeStartBlocker', () => {
  const now = 1_000_000;
  it('always lets the first attempt start (A6), even when throttled or late', () => {
    expect(hedgeStartBlocker(hedgingPolicy, 0, throttleAt(0), 0, now)).toBeUndefined();
  });

  it.each<[string, number, RetryThrottle | undefined, number, string | undefined]>([
    ['second attempt, all clear', 1, undefined, Infinity, undefined],
    ['third attempt with a healthy throttle', 2, throttleAt(6), now + 1, undefined],
    ['maxAttempts reached', 3, undefined, Infinity, 'max-attempts'],
    ['deadline reached', 1, undefined, now, 'deadline'],
    ['throttle at half', 1, throttleAt(5), Infinity, 'throttled'],
  ])('%s', (_name, started, throttle, deadline, expected) => {
    expect(hedgeStartBlocker(hedgingPolicy, started, throttle, deadline, now)).toBe(expected);
  });
});
