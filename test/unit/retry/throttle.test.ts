import { describe, expect, it } from 'vitest';
import { RetryThrottle } from '../../../src/retry/throttle';

type Step = ['fail' | 'ok', number, boolean];

function run(t: RetryThrottle, steps: Step[]): void {
  steps.forEach(([event, tokens, allows], i) => {
    if (event === 'fail') t.recordFailure();
    else t.recordSuccess();
    expect({ step: i, event, tokens: t.tokens, allows: t.allows() }).toEqual({ step: i, event, tokens, allows });
  });
}

describe('RetryThrottle (gRFC A6 token bucket)', () => {
  it('starts full and allows', () => {
    const t = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
    expect(t.tokens).toBe(10);
    expect(t.allows()).toBe(true);
  });

  it('follows the trace for maxTokens 10, tokenRatio 0.1, flipping exactly around 5', () => {
    const t = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
    run(t, [
      ['fail', 9, true],
      ['fail', 8, true],
      ['fail', 7, true],
      ['fail', 6, true],
      ['fail', 5, false], // 5 is not > 10 / 2
      ['ok', 5.1, true],
      ['fail', 4.1, false],
      ['ok', 4.2, false],
      ['ok', 4.3, false],
      ['ok', 4.4, false],
      ['ok', 4.5, false],
      ['ok', 4.6, false],
      ['ok', 4.7, false],
      ['ok', 4.8, false],
      ['ok', 4.9, false],
      ['ok', 5, false],
      ['ok', 5.1, true],
      ['ok', 5.2, true],
    ]);
  });

  it('never goes below 0 nor above maxTokens', () => {
    const t = new RetryThrottle({ maxTokens: 3, tokenRatio: 0.5 });
    run(t, [
      ['fail', 2, true],
      ['fail', 1, false],
      ['fail', 0, false],
      ['fail', 0, false],
      ['ok', 0.5, false],
      ['ok', 1, false],
      ['ok', 1.5, false],
      ['ok', 2, true],
      ['ok', 2.5, true],
      ['ok', 3, true],
      ['ok', 3, true],
    ]);
  });

  it('does not drift over a long trace (integer milli-tokens)', () => {
    const t = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
    for (let i = 0; i < 10; i++) t.recordFailure();
    expect(t.tokens).toBe(0);
    // 50 float additions of 0.1 do not sum to exactly 5; milli-tokens do.
    for (let i = 0; i < 50; i++) t.recordSuccess();
    expect(t.tokens).toBe(5);
    expect(t.allows()).toBe(false);
    t.recordSuccess();
    expect(t.allows()).toBe(true);
    // A million failure / 10-success cycles near the threshold end exactly where they started.
    t.recordFailure();
    for (let cycle = 0; cycle < 100_000; cycle++) {
      t.recordFailure();
      for (let i = 0; i < 10; i++) t.recordSuccess();
    }
    expect(t.tokens).toBe(4.1);
  });

  it('truncates tokenRatio to 3 decimals (A6: 0.5466 is treated as 0.546)', () => {
    expect(new RetryThrottle({ maxTokens: 10, tokenRatio: 0.5466 }).tokenRatio).toBe(0.546);
    expect(new RetryThrottle({ maxTokens: 10, tokenRatio: 0.57 }).tokenRatio).toBe(0.57);
    expect(new RetryThrottle({ maxTokens: 10, tokenRatio: 1 }).tokenRatio).toBe(1);
    const t = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.0019 });
    t.recordFailure();
    t.recordSuccess();
    expect(t.tokens).toBe(9.001);
  });

  it('handles maxTokens 1 (threshold 0.5) and 1000', () => {
    const one = new RetryThrottle({ maxTokens: 1, tokenRatio: 0.2 });
    run(one, [
      ['fail', 0, false],
      ['ok', 0.2, false],
      ['ok', 0.4, false],
      ['ok', 0.6, true],
    ]);
    const big = new RetryThrottle({ maxTokens: 1000, tokenRatio: 0.001 });
    for (let i = 0; i < 500; i++) big.recordFailure();
    expect(big.tokens).toBe(500);
    expect(big.allows()).toBe(false);
    big.recordSuccess();
    expect(big.tokens).toBe(500.001);
    expect(big.allows()).toBe(true);
  });

  it('carries the fill level of a previous throttle over, rescaled to the new maxTokens', () => {
    const old = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
    for (let i = 0; i < 3; i++) old.recordFailure();
    expect(new RetryThrottle({ maxTokens: 20, tokenRatio: 0.1 }, old).tokens).toBe(14);
    expect(new RetryThrottle({ maxTokens: 5, tokenRatio: 0.1 }, old).tokens).toBe(3.5);
    expect(new RetryThrottle({ maxTokens: 3, tokenRatio: 0.1 }, old).tokens).toBe(2.1);
  });
});
