import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, MAX_DURATION_SECONDS, parseDuration } from '../../../src/json/duration';
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

describe('parseDuration: string form', () => {
  it.each([
    ['1s', 1000],
    ['0s', 0],
    ['1.5s', 1500],
    ['0.5s', 500],
    ['0.1s', 100],
    ['0.000340012s', 0.340012],
    ['1.000000001s', 1000.000001],
    ['0.000000001s', 0.000001],
    ['2.10s', 2100],
    ['30.000s', 30_000],
    ['-1.5s', -1500],
    ['-0.5s', -500],
    [`${MAX_DURATION_SECONDS}s`, MAX_DURATION_SECONDS * 1000],
    [`-${MAX_DURATION_SECONDS}s`, -MAX_DURATION_SECONDS * 1000],
    [`${MAX_DURATION_SECONDS}.999999999s`, MAX_DURATION_SECONDS * 1000 + 999.999999],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text, 'd')).toBe(ms);
  });

  it('keeps the fraction digits as written: "0.5s" is 500 ms, not 5 ns', () => {
    expect(parseDuration('0.5s', 'd')).toBe(500);
    expect(parseDuration('0.05s', 'd')).toBe(50);
    expect(parseDuration('0.500000000s', 'd')).toBe(500);
  });

  it('reads "-0s" as 0, not -0', () => {
    expect(Object.is(parseDuration('-0s', 'd'), 0)).toBe(true);
    expect(Object.is(parseDuration('-0.000s', 'd'), 0)).toBe(true);
  });

  it.each([
    '1',
    '1.s',
    '.5s',
    '1.0000000001s',
    '1e3s',
    ' 1s',
    '1s ',
    '+1s',
    '1.5S',
    '1ms',
    '',
    's',
    '-s',
    '--1s',
    '1,5s',
    '0x10s',
    'Infinitys',
    'NaNs',
  ])('rejects %j with the path and the rule', (text) => {
    const error = configError(() => parseDuration(text, 'methodConfig[0].timeout'));
    expect(error.path).toBe('methodConfig[0].timeout');
    expect(error.rule).toMatch(/must be a duration string/);
    expect(error.message).toContain(JSON.stringify(text));
  });

  it('rejects seconds beyond the Duration range', () => {
    for (const text of [`${MAX_DURATION_SECONDS + 1}s`, `-${MAX_DURATION_SECONDS + 1}s`, '99999999999999999999999s']) {
      const error = configError(() => parseDuration(text, 'x.y'));
      expect(error.path).toBe('x.y');
      expect(error.rule).toBe(`must be within ±${MAX_DURATION_SECONDS}s`);
    }
  });
});

describe('parseDuration: {seconds, nanos} form', () => {
  it.each([
    [{ seconds: 1, nanos: 500_000_000 }, 1500],
    [{ seconds: '2' }, 2000],
    [{ seconds: '-2', nanos: '-1' }, -2000.000001],
    [{ nanos: 1 }, 0.000001],
    [{ nanos: -999_999_999 }, -999.999999],
    [{ seconds: -1, nanos: -500_000_000 }, -1500],
    [{ seconds: 0, nanos: -5 }, -0.000005],
    [{}, 0],
    [{ seconds: null, nanos: null }, 0],
    [{ seconds: 3, extra: 'ignored' }, 3000],
    [{ seconds: MAX_DURATION_SECONDS }, MAX_DURATION_SECONDS * 1000],
  ])('%j → %d ms', (value, ms) => {
    expect(parseDuration(value, 'd')).toBe(ms);
  });

  it.each([
    [{ seconds: 1.5 }, 'p.seconds', `must be an integer within ±${MAX_DURATION_SECONDS}`],
    [{ seconds: 'abc' }, 'p.seconds', `must be an integer within ±${MAX_DURATION_SECONDS}`],
    [{ seconds: true }, 'p.seconds', `must be an integer within ±${MAX_DURATION_SECONDS}`],
    [{ seconds: MAX_DURATION_SECONDS + 1 }, 'p.seconds', `must be an integer within ±${MAX_DURATION_SECONDS}`],
    [{ seconds: -MAX_DURATION_SECONDS - 1 }, 'p.seconds', `must be an integer within ±${MAX_DURATION_SECONDS}`],
    [{ nanos: 1_000_000_000 }, 'p.nanos', 'must be an integer in [-999999999, 999999999]'],
    [{ nanos: -1_000_000_000 }, 'p.nanos', 'must be an integer in [-999999999, 999999999]'],
    [{ nanos: 0.5 }, 'p.nanos', 'must be an integer in [-999999999, 999999999]'],
    [{ nanos: '1x' }, 'p.nanos', 'must be an integer in [-999999999, 999999999]'],
    [{ seconds: 1, nanos: -1 }, 'p.nanos', 'must have the same sign as seconds'],
    [{ seconds: -1, nanos: 1 }, 'p.nanos', 'must have the same sign as seconds'],
  ])('%j → %s: %s', (value, path, rule) => {
    const error = configError(() => parseDuration(value, 'p'));
    expect(error.path).toBe(path);
    expect(error.rule).toBe(rule);
  });
});

describe('parseDuration: other types', () => {
  it.each([[1.5], [0], [true], [null], [undefined], [[]], [['1s']]])('rejects %j', (value) => {
    const error = configError(() => parseDuration(value, 'a.b'));
    expect(error.path).toBe('a.b');
    expect(error.rule).toMatch(/^must be a duration: a string such as "1.5s" or an object \{seconds, nanos\}$/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [1000, '1s'],
    [1500, '1.500s'],
    [0.340012, '0.000340012s'],
    [1000.000001, '1.000000001s'],
    [0.001, '0.000001s'],
    [-1500, '-1.500s'],
    [MAX_DURATION_SECONDS * 1000 + 999.999999, `${MAX_DURATION_SECONDS}.999999999s`],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips every seconds/nanos pair in range through parseDuration', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -MAX_DURATION_SECONDS, max: MAX_DURATION_SECONDS }),
        fc.integer({ min: 0, max: 999_999_999 }),
        (seconds, nanos) => {
          const signedNanos = seconds < 0 ? -nanos : nanos;
          const ms = parseDuration({ seconds, nanos: signedNanos }, 'd');
          expect(parseDuration(formatDuration(ms), 'd')).toBe(ms);
          const text = `${seconds < 0 ? '-' : ''}${Math.abs(seconds)}.${String(nanos).padStart(9, '0')}s`;
          expect(parseDuration(text, 'd')).toBe(ms);
        },
      ),
      { numRuns: 500 },
    );
  });
});
