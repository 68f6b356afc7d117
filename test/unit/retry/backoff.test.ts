import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../../src/config/types';
import { retryDelayMs } from '../../../src/retry/backoff';

const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 1000,
  backoffMultiplier: 2,
  retryableStatusCodes: new Set([status.UNAVAILABLE]),
  ...over,
});

const fixed = (value: number) => () => value;
const ALMOST_ONE = 1 - Number.EPSILON;

describe('retryDelayMs (gRFC A6 backoff: min(initial * mult^(n-1), max) * random(0.8, 1.2))', () => {
  it('is exactly 0.8 × the envelope when random() = 0', () => {
    const p = policy();
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(p, n, fixed(0)))).toEqual([80, 160, 320, 640, 800, 800]);
  });

  it('is exactly the envelope when random() = 0.5', () => {
    const p = policy();
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(p, n, fixed(0.5)))).toEqual([100, 200, 400, 800, 1000]);
  });

  it('approaches 1.2 × the envelope (never above) as random() → 1', () => {
    const p = policy();
    for (const [n, envelope] of [[1, 100], [2, 200], [4, 800], [9, 1000]] as const) {
      const d = retryDelayMs(p, n, fixed(ALMOST_ONE));
      // 0.8 + 0.4 × (1 − ε) rounds to 1.2 in binary floating point, so the bound is reached, not exceeded.
      expect(d).toBeLessThanOrEqual(1.2 * envelope);
      expect(d).toBeGreaterThan(1.2 * envelope - 1e-9);
    }
  });

  it('caps at maxBackoff, also for huge n (power overflows to Infinity)', () => {
    const p = policy();
    expect(retryDelayMs(p, 5, fixed(0.5))).toBe(1000);
    expect(retryDelayMs(p, 10_000, fixed(0.5))).toBe(1000);
    expect(retryDelayMs(p, 10_000, fixed(0))).toBe(800);
  });

  it('applies the multiplier: 1 keeps the delay constant, 1.5 grows it, < 1 shrinks it', () => {
    expect([1, 2, 3].map((n) => retryDelayMs(policy({ backoffMultiplier: 1 }), n, fixed(0.5)))).toEqual([100, 100, 100]);
    expect([1, 2, 3].map((n) => retryDelayMs(policy({ backoffMultiplier: 1.5 }), n, fixed(0.5)))).toEqual([100, 150, 225]);
    expect([1, 2].map((n) => retryDelayMs(policy({ backoffMultiplier: 0.5 }), n, fixed(0.5)))).toEqual([100, 50]);
  });

  it('maxBackoff below initialBackoff wins from the first retry', () => {
    expect(retryDelayMs(policy({ initialBackoffMs: 500, maxBackoffMs: 200 }), 1, fixed(0.5))).toBe(200);
  });

  it('over many random draws stays within [0.8, 1.2] × envelope and covers the range', () => {
    const p = policy();
    for (const [n, envelope] of [[1, 100], [3, 400], [7, 1000]] as const) {
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < 10_000; i++) {
        const d = retryDelayMs(p, n, Math.random);
        if (d < min) min = d;
        if (d > max) max = d;
      }
      expect(min).toBeGreaterThanOrEqual(0.8 * envelope);
      expect(max).toBeLessThanOrEqual(1.2 * envelope);
      // With 10 000 uniform draws, missing either outer 5 % of the interval has probability ~1e-220.
      expect(min).toBeLessThan(0.82 * envelope);
      expect(max).toBeGreaterThan(1.18 * envelope);
    }
  });
});
