/**
 * How much work each scenario does. `quick` (`npm run bench -- --quick`) is a smoke check that finishes
 * in about two minutes on a 2-core machine; `full` gives tighter figures (it takes much longer).
 * Durations are in ms.
 */
export interface BenchMode {
  readonly name: 'quick' | 'full';
  /** Runs per figure (median, min and max are taken over them). */
  readonly runs: number;
  /** Overhead: runs per figure, measured length of one unary or streaming run, and its warm-up. */
  readonly overheadRuns: number;
  readonly overheadRunMs: number;
  readonly overheadWarmupMs: number;
  /** Micro-benchmarks: tinybench time per task per run. */
  readonly microTimeMs: number;
  /** Retry amplification: failing calls per run, and the batch size of the attempts-over-time series. */
  readonly amplificationCalls: number;
  readonly amplificationBatch: number;
  /** Runs for the retry amplification scenario (each needs a fresh client process). */
  readonly amplificationRuns: number;
  /** Tail latency: calls per run, sent open loop at `tailRatePerSec` (a saturated machine would measure its own queueing). */
  readonly tailCalls: number;
  readonly tailRatePerSec: number;
  /** Tail latency: also measure hedging with maxAttempts 3. */
  readonly tailHedge3: boolean;
  /** Failover: runs (each kills a backend once; all variants run side by side). */
  readonly failoverRuns: number;
  /** Scale-up: runs, and how long to wait for the new backend to carry its share. */
  readonly scaleUpRuns: number;
  readonly scaleUpWaitMs: number;
  /** Memory: endpoint counts, runs, and calls held in flight for the per-call figure. */
  readonly memoryEndpoints: readonly number[];
  readonly memoryRuns: number;
  readonly memoryInflight: number;
}

/** The quick smoke-check mode. */
export const QUICK: BenchMode = {
  name: 'quick',
  runs: 3,
  overheadRuns: 5,
  overheadRunMs: 300,
  overheadWarmupMs: 300,
  microTimeMs: 60,
  amplificationCalls: 1_000,
  amplificationBatch: 100,
  amplificationRuns: 1,
  tailCalls: 1_500,
  tailRatePerSec: 500,
  tailHedge3: false,
  failoverRuns: 1,
  scaleUpRuns: 1,
  scaleUpWaitMs: 12_000,
  memoryEndpoints: [1, 100, 1000],
  memoryRuns: 1,
  memoryInflight: 500,
};

/** The full mode. */
export const FULL: BenchMode = {
  name: 'full',
  runs: 5,
  overheadRuns: 9,
  overheadRunMs: 2_000,
  overheadWarmupMs: 1_500,
  microTimeMs: 300,
  amplificationCalls: 10_000,
  amplificationBatch: 500,
  amplificationRuns: 3,
  tailCalls: 5_000,
  tailRatePerSec: 500,
  tailHedge3: true,
  failoverRuns: 3,
  scaleUpRuns: 3,
  scaleUpWaitMs: 40_000,
  memoryEndpoints: [1, 100, 1000],
  memoryRuns: 3,
  memoryInflight: 1_000,
};
