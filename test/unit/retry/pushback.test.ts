import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { MAX_PUSHBACK_MS, PUSHBACK_ABSENT, PUSHBACK_KEY, PUSHBACK_STOP, parsePushback } from '../../../src/retry/pushback';

function trailers(...values: string[]): Metadata {
  const md = new Metadata();
  for (const v of values) md.add(PUSHBACK_KEY, v);
  return md;
}

describe('parsePushback (gRFC A6 grpc-retry-pushback-ms)', () => {
  it('uses distinct negative constants', () => {
    expect(PUSHBACK_ABSENT).toBe(-1);
    expect(PUSHBACK_STOP).toBe(-2);
    expect(MAX_PUSHBACK_MS).toBe(2 ** 31 - 1);
  });

  it('returns PUSHBACK_ABSENT without the trailer, even with other trailers', () => {
    const md = new Metadata();
    md.set('x-other', '5');
    expect(parsePushback(md)).toBe(PUSHBACK_ABSENT);
    expect(parsePushback(new Metadata())).toBe(PUSHBACK_ABSENT);
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['250', 250],
    ['007', 7],
    ['2147483647', MAX_PUSHBACK_MS],
  ])('accepts %j as %d ms', (value, ms) => {
    expect(parsePushback(trailers(value))).toBe(ms);
  });

  it.each([
    ['negative', '-1'],
    ['negative zero', '-0'],
    ['very negative', '-2147483648'],
    ['plus sign', '+5'],
    ['empty', ''],
    ['letters', 'abc'],
    ['digits then letters', '100ms'],
    ['leading space', ' 5'],
    ['trailing space', '5 '],
    ['decimal', '5.0'],
    ['exponent', '1e3'],
    ['hex', '0x10'],
    ['int32 max + 1', '2147483648'],
    ['huge', '99999999999999999999999'],
  ])('returns PUSHBACK_STOP for %s (%j)', (_name, value) => {
    expect(parsePushback(trailers(value))).toBe(PUSHBACK_STOP);
  });

  it('accepts repeated identical values, stops on conflicting ones', () => {
    expect(parsePushback(trailers('5', '5'))).toBe(5);
    expect(parsePushback(trailers('5', '005'))).toBe(5);
    expect(parsePushback(trailers('5', '6'))).toBe(PUSHBACK_STOP);
    expect(parsePushback(trailers('5', 'x'))).toBe(PUSHBACK_STOP);
    expect(parsePushback(trailers('x', 'y'))).toBe(PUSHBACK_STOP);
  });

  it('reads the key case-insensitively, as metadata keys are', () => {
    const md = new Metadata();
    md.set('Grpc-Retry-Pushback-Ms', '42');
    expect(parsePushback(md)).toBe(42);
  });
});
