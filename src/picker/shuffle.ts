/**
 * A uniformly random permutation of `items` (Fisher–Yates / Knuth shuffle), returned as a new array;
 * the input is not modified. Used by `pick_first`'s `shuffleAddressList` (gRFC A62), which shuffles
 * endpoints, never the addresses inside one endpoint (gRFC A61, "Address List Handling in pick_first").
 *
 * Every position from the last down to index 1 swaps with a uniformly chosen index at or below it, so
 * a two-element list comes out in either order with probability 1/2 each (grpc-js 1.14's loop stops
 * one step early and never swaps two elements).
 *
 * @param items the elements to permute; O(items.length) time.
 * @param random uniform numbers in [0, 1), e.g. `ChannelControlHelper.random`. A value of 1 or more
 *   (a faulty generator) is clamped so the result is still a permutation.
 * @returns a new array holding the same elements in random order.
 */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}
