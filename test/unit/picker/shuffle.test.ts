import { describe, expect, it } from 'vitest';
import { shuffle } from '../../../src/picker/shuffle';

/** A small deterministic PRNG (mulberry32) so distribution checks never flake. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('shuffle (Fisher–Yates)', () => {
  it('returns a new array and leaves the input alone', () => {
    const input = [1, 2, 3, 4];
    const out = shuffle(input, seeded(1));
    expect(input).toEqual([1, 2, 3, 4]);
    expect(out).not.toBe(input);
    expect([...out].sort()).toEqual([1, 2, 3, 4]);
  });

  it('handles empty and single-element lists', () => {
    expect(shuffle([], Math.random)).toEqual([]);
    expect(shuffle(['a'], Math.random)).toEqual(['a']);
  });

  it('swaps two elements when the random draw says so (grpc-js never does)', () => {
    expect(shuffle(['a', 'b'], () => 0)).toEqual(['b', 'a']);
    expect(shuffle(['a', 'b'], () => 0.99)).toEqual(['a', 'b']);
  });

  it('produces both orders of two elements with a real generator', () => {
    const seen = new Set<string>();
    const random = seeded(42);
    for (let i = 0; i < 100; i++) seen.add(shuffle(['a', 'b'], random).join(''));
    expect(seen).toEqual(new Set(['ab', 'ba']));
  });

  it('is close to uniform over the 6 permutations of 3 elements', () => {
    const counts = new Map<string, number>();
    const random = seeded(7);
    for (let i = 0; i < 6000; i++) {
      const key = shuffle(['a', 'b', 'c'], random).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(850);
      expect(count).toBeLessThan(1150);
    }
  });

  it('still returns a permutation if the generator returns 1', () => {
    expect(shuffle([1, 2, 3], () => 1).sort()).toEqual([1, 2, 3]);
  });
});
