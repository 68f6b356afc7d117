import { describe, expect, it } from 'vitest';
import {
  createConnectionBackoff,
  resolveConnectionBackoffConfig,
  DEFAULT_INITIAL_BACKOFF_MS,
  DEFAULT_MAX_BACKOFF_MS,
  DEFAULT_MIN_CONNECT_TIMEOUT_MS,
} from '../../src/backoff';
import { ConfigError } from '../../src/errors';

const defaults = resolveConnectionBackoffConfig();

describe('resolveConnectionBackoffConfig', () => {
  it('uses the doc/connection-backoff.md parameters by default', () => {
    expect(defaults).toEqual({ initialBackoffMs: 1_000, maxBackoffMs: 120_000, minConnectTimeoutMs: 20_000 });
    expect([DEFAULT_INITIAL_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS, DEFAULT_MIN_CONNECT_TIMEOUT_MS]).toEqual([
      1_000, 120_000, 20_000,
    ]);
  });

  it('takes overrides', () => {
    expect(
      resolveConnectionBackoffConfig({ initialReconnectBackoffMs: 50, maxReconnectBackoffMs: 400, minConnectTimeoutMs: 300 }),
    ).toEqual({ initialBackoffMs: 50, maxBackoffMs: 400, minConnectTimeoutMs: 300 });
  });

  it('raises the default cap when only the initial backoff exceeds it', () => {
    expect(resolveConnectionBackoffConfig({ initialReconnectBackoffMs: 200_000 }).maxBackoffMs).toBe(200_000);
  });

  it.each([
    [{ initialReconnectBackoffMs: 0 }, 'options.initialReconnectBackoffMs'],
    [{ initialReconnectBackoffMs: -1 }, 'options.initialReconnectBackoffMs'],
    [{ initialReconnectBackoffMs: Number.NaN }, 'options.initialReconnectBackoffMs'],
    [{ maxReconnectBackoffMs: Number.POSITIVE_INFINITY }, 'options.maxReconnectBackoffMs'],
    [{ initialReconnectBackoffMs: 500, maxReconnectBackoffMs: 100 }, 'options.maxReconnectBackoffMs'],
    [{ minConnectTimeoutMs: 2 ** 31 }, 'options.minConnectTimeoutMs'],
    [{ minConnectTimeoutMs: '20' as unknown as number }, 'options.minConnectTimeoutMs'],
  ])('rejects %o naming %s', (options, path) => {
    let thrown: unknown;
    try {
      resolveConnectionBackoffConfig(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).path).toBe(path);
  });
});

describe('createConnectionBackoff', () => {
  it('starts at the initial backoff without jitter, then grows by 1.6 (random 0.5 = no jitter)', () => {
    const backoff = createConnectionBackoff(defaults, () => 0.5);
    const delays = Array.from({ length: 6 }, () => backoff.nextAttempt().backoffMs);
    const expected = [1_000, 1_600, 2_560, 4_096, 6_553.6, 10_485.76];
    delays.forEach((delay, i) => expect(delay).toBeCloseTo(expected[i]!, 6));
  });

  it('jitters every attempt after the first by at most ±20 %', () => {
    const low = createConnectionBackoff(defaults, () => 0);
    const high = createConnectionBackoff(defaults, () => 0.999_999_999);
    expect(low.nextAttempt().backoffMs).toBe(1_000);
    expect(high.nextAttempt().backoffMs).toBe(1_000);
    let base = 1_000;
    for (let i = 0; i < 8; i++) {
      base *= 1.6;
      expect(low.nextAttempt().backoffMs).toBeCloseTo(base * 0.8, 6);
      const h = high.nextAttempt().backoffMs;
      expect(h).toBeLessThan(base * 1.2 + 1e-6);
      expect(h).toBeGreaterThan(base * 1.2 - 1e-3);
    }
  });

  it('stays within [0.8, 1.2] × the capped backoff for any random value', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const backoff = createConnectionBackoff(defaults, random);
    backoff.nextAttempt();
    let base = 1_000;
    for (let i = 0; i < 40; i++) {
      base = Math.min(base * 1.6, 120_000);
      const { backoffMs } = backoff.nextAttempt();
      expect(backoffMs).toBeGreaterThanOrEqual(base * 0.8);
      expect(backoffMs).toBeLessThanOrEqual(base * 1.2);
    }
  });

  it('caps the un-jittered backoff at the max backoff', () => {
    const backoff = createConnectionBackoff({ initialBackoffMs: 100, maxBackoffMs: 300, minConnectTimeoutMs: 10 }, () => 0.5);
    const delays = Array.from({ length: 6 }, () => backoff.nextAttempt().backoffMs);
    expect(delays.map((d) => Math.round(d))).toEqual([100, 160, 256, 300, 300, 300]);
  });

  it('gives each attempt max(backoff, min connect timeout) to connect', () => {
    const backoff = createConnectionBackoff({ initialBackoffMs: 1_000, maxBackoffMs: 60_000, minConnectTimeoutMs: 20_000 }, () => 0.5);
    const timeouts = Array.from({ length: 10 }, () => backoff.nextAttempt());
    for (const { backoffMs, connectTimeoutMs } of timeouts) {
      expect(connectTimeoutMs).toBe(Math.max(backoffMs, 20_000));
    }
    expect(timeouts[0]!.connectTimeoutMs).toBe(20_000);
    expect(timeouts[9]!.connectTimeoutMs).toBeGreaterThan(20_000);
  });

  it('starts over at the initial backoff after reset (a connection became READY)', () => {
    const backoff = createConnectionBackoff(defaults, () => 0.9);
    backoff.nextAttempt();
    backoff.nextAttempt();
    expect(backoff.nextAttempt().backoffMs).toBeGreaterThan(2_560);
    backoff.reset();
    expect(backoff.nextAttempt().backoffMs).toBe(1_000);
    expect(backoff.nextAttempt().backoffMs).toBeCloseTo(1_600 * 1.16, 6);
  });
});
