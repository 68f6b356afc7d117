/** Largest scaled weight: weights are scaled so the largest becomes this (16 bits, as in C-core). */
const MAX_WEIGHT = 65_535;
/** Weights above `mean × MAX_RATIO` are capped, bounding the expected rounds per pick (C-core). */
const MAX_RATIO = 10;
/** Weights below `mean × MIN_RATIO` are raised to it, so a near-zero weight does not cost many rounds. */
const MIN_RATIO = 0.01;
const OFFSET = Math.floor(MAX_WEIGHT / 2);

/**
 * Chooses an index for each pick in proportion to weights, from a sequence counter: the static stride
 * scheduler of gRFC A58's implementations (grpc C-core `static_stride_scheduler.cc`, grpc-go's
 * `weightedroundrobin` scheduler). Building is O(n); a pick is O(1) on average (at most about
 * `MAX_RATIO` rounds) and allocates nothing.
 */
export type Scheduler = () => number;

/**
 * Build a scheduler over `weights` (one per READY endpoint, 0 meaning "not known yet").
 *
 * - No usable weights (all but at most one are 0, or a single endpoint), or all scaled weights equal:
 *   `undefined`, for plain round robin over the sequence (gRFC A58: "behaves the same as round_robin").
 * - Otherwise unknown weights get the mean of the known ones; known weights are clamped to
 *   [mean × 0.01, mean × 10] and scaled so the largest is 65 535. Sequence number `s` names endpoint
 *   `s mod n` in generation `⌊s / n⌋`; the endpoint is taken when
 *   `(weight × generation + index × 32 767) mod 65 535 ≥ 65 535 − weight`, else the next number is tried.
 *
 * @param weights endpoint weights (non-negative, finite); read once, not kept.
 * @param next the sequence: a counter shared by every pick of one picker, wrapping at 2^32.
 */
export function staticStrideScheduler(weights: ArrayLike<number>, next: () => number): Scheduler | undefined {
  const n = weights.length;
  if (n <= 1) return undefined;
  let sum = 0;
  let max = 0;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    sum += w;
    if (w > max) max = w;
    if (w === 0) zeros++;
  }
  if (zeros >= n - 1) return undefined;
  const unscaledMean = sum / (n - zeros);
  const cap = Math.min(max, unscaledMean * MAX_RATIO);
  const scale = MAX_WEIGHT / cap;
  const mean = Math.round(scale * unscaledMean);
  const floor = Math.max(1, Math.round(mean * MIN_RATIO));
  const scaled = new Uint16Array(n);
  let allEqual = true;
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    const s = w === 0 ? mean : Math.max(floor, Math.round(Math.min(w, cap) * scale));
    scaled[i] = s;
    if (s !== scaled[0]) allEqual = false;
  }
  if (allEqual) return undefined;
  return () => {
    for (;;) {
      const sequence = next();
      const index = sequence % n;
      const generation = Math.floor(sequence / n);
      const weight = scaled[index] as number;
      // Exact in doubles: weight × generation < 2^16 × 2^32.
      if ((weight * generation + index * OFFSET) % MAX_WEIGHT >= MAX_WEIGHT - weight) return index;
    }
  };
}
