import type { BenchMode } from '../lib/mode';
import type { Progress } from '../lib/progress';

/** What a scenario gets from the runner. */
export interface ScenarioContext {
  readonly mode: BenchMode;
  readonly progress: Progress;
  /** When set, client processes write `--cpu-prof` profiles here. */
  readonly cpuProfileDir?: string;
}

/** A table of the Markdown report. Cells are preformatted text. */
export interface ReportTable {
  readonly caption: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

/** A chart: a Vega-Lite spec rendered to `<name>.svg` next to the report. */
export interface ReportChart {
  /** File name without extension, unique within the run. */
  readonly name: string;
  readonly title: string;
  /** A Vega-Lite v6 spec with inline data. */
  readonly spec: object;
}

/** One target of issue "Benchmarks", as measured: reported, never asserted. */
export interface TargetCheck {
  readonly scenario: string;
  /** The target as stated, e.g. `calls/s >= 0.97 x raw grpc-js at concurrency 64`. */
  readonly target: string;
  /** What was measured, preformatted. */
  readonly measured: string;
  /** Whether it was met; undefined when it could not be measured. */
  readonly met: boolean | undefined;
}

/** What a scenario produced: raw data for the JSON file plus the report's tables, charts and targets. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  /** One or two sentences: what was run, against what. */
  readonly setup: string;
  readonly tables: readonly ReportTable[];
  readonly charts: readonly ReportChart[];
  readonly targets: readonly TargetCheck[];
  /** Notes printed under the tables (caveats, failures). */
  readonly notes: readonly string[];
  /** Every measured value, JSON-serialisable, for `bench/results/<date>.json`. */
  readonly data: unknown;
}

/** A benchmark scenario. */
export interface Scenario {
  /** Short id used by `--only`, e.g. `overhead`. */
  readonly id: string;
  readonly title: string;
  /** @throws Error (rejects) when the scenario cannot run; the runner records it and goes on. */
  run(context: ScenarioContext): Promise<ScenarioResult>;
}
