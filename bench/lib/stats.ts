/**
 * One reported figure: the median of several runs with their min and max, in `unit`. When a baseline
 * was measured in the same run, `ratio` is this figure over the baseline's (median of the per-run
 * ratios, and their min and max).
 */
export interface Figure {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** The value of each run, in run order. */
  readonly runs: readonly number[];
  readonly unit: string;
  readonly ratio?: Spread;
  /** Name of the baseline `ratio` is against. */
  readonly baseline?: string;
}

/** Median, min and max of a set of values. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median (mean of the middle two for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, min and max of `values` (NaN for none). */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** A {@link Figure} from per-run values. */
export function figure(runs: readonly number[], unit: string): Figure {
  return { ...spread(runs), runs: [...runs], unit };
}

/**
 * Adds a ratio against `baseline` (measured in the same run): run i of `value` over run i of
 * `baseline`, pairing runs that were interleaved; with different run counts, the ratio of the medians.
 */
export function withRatio(value: Figure, baseline: Figure, baselineName: string): Figure {
  let ratios: number[];
  if (value.runs.length === baseline.runs.length && value.runs.length > 0) {
    ratios = value.runs.map((v, i) => v / baseline.runs[i]!);
  } else {
    ratios = [value.median / baseline.median];
  }
  return { ...value, ratio: spread(ratios.filter((r) => Number.isFinite(r))), baseline: baselineName };
}

/**
 * The q-quantile (q in [0, 1]) of an ascending array, nearest-rank: the smallest value with at least
 * a fraction q of the values at or below it. NaN for an empty array.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Latency percentiles of one run, in ms. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Percentiles of `latencies` (ms, any order). */
export function summarizeLatencies(latencies: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    p999: quantileSorted(sorted, 0.999),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

/**
 * A complementary CDF of `latencies` for plotting: about `points` pairs (latency ms, fraction of
 * calls slower than it), spaced evenly on a log scale of the tail fraction so p99.9 gets as much
 * room as p50.
 */
export function latencyCcdf(latencies: readonly number[], points = 120): Array<{ latencyMs: number; slower: number }> {
  const sorted = Float64Array.from(latencies).sort();
  const n = sorted.length;
  if (n === 0) return [];
  const out: Array<{ latencyMs: number; slower: number }> = [];
  const minTail = 1 / n;
  for (let i = 0; i <= points; i++) {
    const tail = Math.pow(10, (Math.log10(minTail) * i) / points); // 1 → 1/n
    const q = 1 - tail;
    out.push({ latencyMs: quantileSorted(sorted, q), slower: Math.max(tail, minTail) });
  }
  return out;
}
