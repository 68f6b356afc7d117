import { xxh64String, xxh64Low } from './xxhash64';

/** One endpoint's place on the ring: its hash key and weight. */
export interface RingMember<T> {
  readonly item: T;
  /** Hashed to place the member (gRFC A76: the `hash_key` attribute, else the first address). */
  readonly hashKey: string;
  /** Positive integer weight (gRFC A42 per-endpoint weight attribute; 1 by default). */
  readonly weight: number;
}

/** A consistent-hash ring (gRFC A42 "Ring Construction"): entries sorted by 64-bit hash. */
export interface Ring<T> {
  /** Entry count. */
  readonly size: number;
  /** The item of entry `i`. */
  readonly items: readonly T[];
  /** The index of the first entry whose hash is at least (`high`, `low`), wrapping to 0. O(log size). */
  find(high: number, low: number): number;
}

/**
 * Build the ring of gRFC A42 as Envoy and grpc-go do: weights normalized to sum 1; the scale is the
 * smallest that gives the lightest member a whole number of entries at `minRingSize` or more, capped
 * at `maxRingSize`; members (sorted by hash key, so the ring does not depend on list order) get
 * entries until their share of `scale` is covered, entry `k` of a member hashed as
 * XXH64(`<hashKey>_<k>`); entries are sorted by hash.
 * @param members at least one, with positive weights.
 */
export function buildRing<T>(members: readonly RingMember<T>[], minRingSize: number, maxRingSize: number): Ring<T> {
  const sorted = [...members].sort((a, b) => (a.hashKey < b.hashKey ? -1 : a.hashKey > b.hashKey ? 1 : 0));
  let total = 0;
  for (const m of sorted) total += m.weight;
  let minWeight = 1;
  for (const m of sorted) minWeight = Math.min(minWeight, m.weight / total);
  const scale = Math.min(Math.ceil(minWeight * minRingSize) / minWeight, maxRingSize);
  const capacity = Math.ceil(scale);
  const highs: number[] = [];
  const lows: number[] = [];
  const owners: T[] = [];
  let current = 0;
  let target = 0;
  for (const m of sorted) {
    target += (scale * m.weight) / total;
    for (let k = 0; current < target && owners.length < capacity; k++, current++) {
      highs.push(xxh64String(`${m.hashKey}_${k}`));
      lows.push(xxh64Low());
      owners.push(m.item);
    }
  }
  const order = owners.map((_, i) => i).sort((a, b) => (highs[a] as number) - (highs[b] as number) || (lows[a] as number) - (lows[b] as number));
  const size = order.length;
  const high = new Uint32Array(size);
  const low = new Uint32Array(size);
  const items = order.map((i, at) => {
    high[at] = highs[i] as number;
    low[at] = lows[i] as number;
    return owners[i] as T;
  });
  return {
    size,
    items,
    find(h: number, l: number): number {
      let lo = 0;
      let hi = size;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const mh = high[mid] as number;
        if (mh < h || (mh === h && (low[mid] as number) < l)) lo = mid + 1;
        else hi = mid;
      }
      return lo === size ? 0 : lo;
    },
  };
}
