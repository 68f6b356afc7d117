import { describe, expect, it } from 'vitest';
import {
  MAX_GRPC_TIMEOUT_VALUE,
  NO_DEADLINE,
  deadlineFromGrpc,
  minDeadline,
  parseGrpcTimeout,
  toGrpcTimeout,
} from '../../../src/deadline/deadline';
import { ConfigError } from '../../../src/errors';

describe('deadlineFromGrpc', () => {
  it('accepts Dates, numbers and Infinity (grpc-js semantics)', () => {
    expect(deadlineFromGrpc(new Date(1_700_000_000_123))).toBe(1_700_000_000_123);
    expect(deadlineFromGrpc(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(deadlineFromGrpc(Infinity)).toBe(NO_DEADLINE);
    expect(deadlineFromGrpc(undefined)).toBe(Infinity);
    expect(deadlineFromGrpc(null)).toBe(Infinity);
    expect(deadlineFromGrpc(0)).toBe(0); // in the past: the call fails at once
  });

  it('throws ConfigError for NaN and invalid Dates', () => {
    expect(() => deadlineFromGrpc(NaN)).toThrow(ConfigError);
    expect(() => deadlineFromGrpc(new Date('nope'))).toThrow(/^deadline: must be a valid Date/);
    expect(() => deadlineFromGrpc('5' as unknown as number, 'options.deadline')).toThrow(/^options\.deadline: /);
  });
});

describe('minDeadline', () => {
  it('keeps the earlier deadline', () => {
    expect(minDeadline(5, 7)).toBe(5);
    expect(minDeadline(7, 5)).toBe(5);
    expect(minDeadline(Infinity, 5)).toBe(5);
    expect(minDeadline(Infinity, Infinity)).toBe(Infinity);
  });
});

describe('toGrpcTimeout (PROTOCOL-HTTP2: at most 8 digits, finest unit, rounded up)', () => {
  it.each<[number, string]>([
    [0, '1n'],
    [-5, '1n'],
    [-Infinity, '1n'],
    [1e-6, '1n'],
    [1e-7, '1n'],
    [0.1, '100000n'],
    [1, '1000000n'],
    [99.999999, '99999999n'],
    [99.9999991, '100000u'],
    [100, '100000u'],
    [1500.5, '1500500u'],
    [99_999.999, '99999999u'],
    [99_999.9991, '100000m'],
    [100_000, '100000m'],
    [99_999_999, '99999999m'],
    [99_999_999.5, '100000S'],
    [100_000_000, '100000S'],
    [99_999_999_000, '99999999S'],
    [99_999_999_001, '1666667M'],
    [99_999_999 * 60_000, '99999999M'],
    [99_999_999 * 60_000 + 1, '1666667H'],
    [99_999_999 * 3_600_000, '99999999H'],
    [99_999_999 * 3_600_000 + 1, '99999999H'],
    [1e300, '99999999H'],
    [Infinity, '99999999H'],
  ])('%d ms → %s', (ms, header) => {
    expect(toGrpcTimeout(ms)).toBe(header);
  });

  it('never encodes fewer than the requested ms, nor a value over 8 digits', () => {
    for (const ms of [0.0005, 0.3, 7, 99.5, 123.456, 99_999, 3_599_999, 86_400_000, 1e12, 3.5e14]) {
      const header = toGrpcTimeout(ms);
      expect(header).toMatch(/^\d{1,8}[HMSmun]$/);
      const back = parseGrpcTimeout(header)!;
      expect(back).toBeGreaterThanOrEqual(ms);
      expect(back - ms).toBeLessThanOrEqual(ms * 1e-7 + 1e-6);
    }
    expect(MAX_GRPC_TIMEOUT_VALUE).toBe(99_999_999);
  });

  it('throws ConfigError for NaN', () => {
    expect(() => toGrpcTimeout(NaN)).toThrow(ConfigError);
  });
});

describe('parseGrpcTimeout', () => {
  it.each<[string, number]>([
    ['1H', 3_600_000],
    ['2M', 120_000],
    ['1S', 1000],
    ['100m', 100],
    ['5u', 0.005],
    ['5000000n', 5],
    ['0n', 0],
    ['99999999H', 99_999_999 * 3_600_000],
    ['00000001S', 1000],
  ])('%s → %d ms', (header, ms) => {
    expect(parseGrpcTimeout(header)).toBe(ms);
  });

  it.each(['', '1', 'S', '123456789S', '1s', '1h', ' 1S', '1S ', '1 S', '+1S', '-1S', '1.5S', '1e3m', 'abcS'])(
    'rejects %j',
    (header) => {
      expect(parseGrpcTimeout(header)).toBeUndefined();
    },
  );
});
