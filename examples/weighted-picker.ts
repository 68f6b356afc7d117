import type { PickComplete, Picker } from 'switchyard';

/**
 * An immutable picker choosing among `children` with probability proportional to `weight`, in O(1)
 * per pick with no allocation (Vose's alias method: the O(n) tables are built once, here; a pick is one
 * `random()` call, two array reads and a preallocated result). Used by `examples/custom-policy.ts`.
 * @param children the READY children, at least one, each with a positive finite `weight`.
 * @param random uniform numbers in [0, 1), e.g. the policy helper's `random`.
 */
export function weightedPicker(children: readonly { result: PickComplete; weight: number }[], random: () => number): Picker {
  const n = children.length;
  const total = children.reduce((sum, c) => sum + c.weight, 0);
  const prob = new Float64Array(n);
  const alias = new Uint32Array(n);
  const scaled = children.map((c) => (c.weight * n) / total);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large[large.length - 1]!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    if (scaled[l]! < 1) small.push(large.pop()!);
  }
  for (const i of [...small, ...large]) prob[i] = 1; // rounding leftovers
  const results = children.map((c) => c.result);
  return {
    pick() {
      const u = random() * n;
      const i = Math.floor(u);
      return results[u - i < prob[i]! ? i : alias[i]!]!;
    },
  };
}
