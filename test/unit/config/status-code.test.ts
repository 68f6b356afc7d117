import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { parseStatusCode, parseStatusCodeList, STATUS_CODE_NAMES } from '../../../src/config/status-code';
import { ConfigError } from '../../../src/errors';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const RULE = 'must be a status code: an integer 0..16 or a name such as "UNAVAILABLE"';

describe('parseStatusCode', () => {
  it('names every grpc-js status with its canonical name', () => {
    expect(STATUS_CODE_NAMES).toHaveLength(17);
    STATUS_CODE_NAMES.forEach((name, code) => {
      expect(status[name as keyof typeof status]).toBe(code);
    });
  });

  it.each(STATUS_CODE_NAMES.map((name, code) => [name, code] as const))('%s is %d in any letter case', (name, code) => {
    const mixed = name
      .split('')
      .map((c, i) => (i % 2 === 0 ? c.toLowerCase() : c))
      .join('');
    for (const form of [name, name.toLowerCase(), mixed, name[0] + name.slice(1).toLowerCase()]) {
      expect(parseStatusCode(form, 'p')).toBe(code);
    }
    expect(parseStatusCode(code, 'p')).toBe(code);
  });

  it('reads the A6 examples: 14, "UNAVAILABLE", "unavailable", "Unavailable"', () => {
    for (const value of [14, 'UNAVAILABLE', 'unavailable', 'Unavailable']) {
      expect(parseStatusCode(value, 'p')).toBe(status.UNAVAILABLE);
    }
  });

  it.each([
    [17],
    [-1],
    [1.5],
    [Number.NaN],
    ['14'],
    ['UNAVAILABLE '],
    [' UNAVAILABLE'],
    ['UN AVAILABLE'],
    ['unavaılable'], // dotless i upper-cases to I: must not be accepted
    ['ſtatus'],
    [''],
    ['NOPE'],
    ['toString'],
    ['__proto__'],
    [null],
    [true],
    [{}],
    [[14]],
  ])('rejects %j', (value) => {
    const error = configError(() => parseStatusCode(value, 'methodConfig[0].retryPolicy.retryableStatusCodes[3]'));
    expect(error.path).toBe('methodConfig[0].retryPolicy.retryableStatusCodes[3]');
    expect(error.rule).toBe(RULE);
  });
});

describe('parseStatusCodeList', () => {
  it('collects codes into a frozen set, collapsing duplicates', () => {
    const codes = parseStatusCodeList(['UNAVAILABLE', 14, 'aborted', 0], 'l', true);
    expect([...codes]).toEqual([status.UNAVAILABLE, status.ABORTED, status.OK]);
    expect(Object.isFrozen(codes)).toBe(true);
    expect(() => (codes as Set<status>).add(status.INTERNAL)).toThrow(TypeError);
    expect(() => (codes as Set<status>).delete(status.OK)).toThrow(TypeError);
    expect(() => (codes as Set<status>).clear()).toThrow(TypeError);
    expect(codes.size).toBe(3);
  });

  it('accepts an empty list unless non-empty is required', () => {
    expect(parseStatusCodeList([], 'l', false).size).toBe(0);
    const error = configError(() => parseStatusCodeList([], 'x.retryableStatusCodes', true));
    expect(error.path).toBe('x.retryableStatusCodes');
    expect(error.rule).toBe('must be a non-empty array of status codes');
  });

  it('names the bad element by index', () => {
    const error = configError(() => parseStatusCodeList(['OK', 'CANCELLED', 'NOPE'], 'x.codes', false));
    expect(error.path).toBe('x.codes[2]');
    expect(error.message).toBe(`x.codes[2]: ${RULE}, got "NOPE"`);
  });

  it('rejects a non-array', () => {
    const error = configError(() => parseStatusCodeList('UNAVAILABLE', 'x.codes', false));
    expect(error.path).toBe('x.codes');
    expect(error.rule).toBe('must be an array');
  });
});
