import { backendCalls, closeBackends, ipv4Target, startBackends } from '../lib/backends';
import type { ClientKind } from '../lib/clients';
import { startClientProcess, type ClientProcess } from '../lib/client-process';
import { serviceConfig } from '../lib/service-configs';
import { figure, latencyCcdf, withRatio, type Figure } from '../lib/stats';
import { fig, figRatio } from '../report/format';
import type { Scenario, ScenarioContext, ScenarioResult, TargetCheck } from './types';

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly kind: ClientKind;
  /** Hedging `maxAttempts`, or 0 for no hedging. */
  readonly hedge: number;
}

const HEDGING_DELAY_MS = 20;
const SLOW_MS = 200;
const SLOW_FRACTION = 0.1;
/** Cap on calls in flight of the open-loop load. */
const CONCURRENCY = 64;

const VARIANTS: readonly Variant[] = [
  { id: 'grpc-js', label: 'grpc-js round_robin', kind: 'grpc-js', hedge: 0 },
  { id: 'switchyard', label: 'switchyard round_robin', kind: 'switchyard', hedge: 0 },
  { id: 'grpc-js-hedge2', label: 'grpc-js + hedging ×2', kind: 'grpc-js', hedge: 2 },
  { id: 'switchyard-hedge2', label: 'switchyard + hedging ×2', kind: 'switchyard', hedge: 2 },
  { id: 'grpc-js-hedge3', label: 'grpc-js + hedging ×3', kind: 'grpc-js', hedge: 3 },
  { id: 'switchyard-hedge3', label: 'switchyard + hedging ×3', kind: 'switchyard', hedge: 3 },
];

interface RunResult {
  p50: number;
  p99: number;
  p999: number;
  /** Backend attempts per call minus 1: the extra load hedging added. */
  extraLoad: number;
  failed: number;
  /** switchyard: hedges per call from channel.stats(). */
  hedgesPerCall?: number;
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const { mode, progress } = context;
  const backends = await startBackends([
    { id: 'b1' },
    { id: 'b2' },
    { id: 'b3-slow', args: ['--delay-ms', String(SLOW_MS), '--delay-fraction', String(SLOW_FRACTION)] },
  ]);
  const workers: ClientProcess[] = [];
  try {
    const variants = VARIANTS.filter((v) => v.hedge < 3 || mode.tailHedge3);
    workers.push(...(await Promise.all(variants.map(() => startClientProcess({ cpuProfileDir: context.cpuProfileDir })))));
    const target = ipv4Target(backends);
    for (const [i, v] of variants.entries()) {
      await workers[i]!.open('s', {
        kind: v.kind,
        target,
        serviceConfig: serviceConfig({
          policy: 'round_robin',
          hedging: v.hedge > 0 ? { delayMs: HEDGING_DELAY_MS, maxAttempts: v.hedge } : undefined,
        }),
      });
      const warm = await workers[i]!.unary('s', { concurrency: 16, calls: 300, deadlineMs: 10_000 });
      if (warm.failed > 0) throw new Error(`${v.label}: ${warm.failed} of 300 warm-up calls failed: ${JSON.stringify(warm.codes)}`);
    }
    const results = new Map<string, RunResult[]>();
    const latencies = new Map<string, number[]>();
    for (let r = 0; r < mode.runs; r++) {
      for (const [i, v] of variants.entries()) {
        const before = await backendCalls(backends);
        const statsBefore = await workers[i]!.stats('s');
        const res = await workers[i]!.unary('s', {
          concurrency: CONCURRENCY,
          ratePerSec: mode.tailRatePerSec,
          calls: mode.tailCalls,
          deadlineMs: 10_000,
          latencies: true,
        });
        const after = await backendCalls(backends);
        const statsAfter = await workers[i]!.stats('s');
        const out: RunResult = {
          p50: res.latency.p50,
          p99: res.latency.p99,
          p999: res.latency.p999,
          extraLoad: (after - before) / res.calls - 1,
          failed: res.failed,
          hedgesPerCall: statsAfter && statsBefore ? (statsAfter.hedges - statsBefore.hedges) / res.calls : undefined,
        };
        results.set(v.id, [...(results.get(v.id) ?? []), out]);
        latencies.set(v.id, [...(latencies.get(v.id) ?? []), ...(res.latencies ?? [])]);
        progress.step(
          `${v.label}: run ${r + 1}/${mode.runs}: p50 ${out.p50.toFixed(1)} ms, p99 ${out.p99.toFixed(1)} ms, ` +
            `p99.9 ${out.p999.toFixed(1)} ms, +${(out.extraLoad * 100).toFixed(1)} % attempts`,
        );
      }
    }
    return report(variants, results, latencies, context);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await closeBackends(backends);
  }
}

function report(variants: readonly Variant[], results: Map<string, RunResult[]>, latencies: Map<string, number[]>, context: ScenarioContext): ScenarioResult {
  const f = (id: string, key: keyof RunResult, unit: string): Figure => figure(results.get(id)!.map((r) => (r[key] as number | undefined) ?? Number.NaN), unit);
  const base = { p50: f('grpc-js', 'p50', 'ms'), p99: f('grpc-js', 'p99', 'ms'), p999: f('grpc-js', 'p999', 'ms') };
  const rows = variants.map((v) => [
    v.label,
    figRatio(withRatio(f(v.id, 'p50', 'ms'), base.p50, 'grpc-js round_robin'), 1),
    figRatio(withRatio(f(v.id, 'p99', 'ms'), base.p99, 'grpc-js round_robin'), 1),
    figRatio(withRatio(f(v.id, 'p999', 'ms'), base.p999, 'grpc-js round_robin'), 1),
    `${fig(f(v.id, 'extraLoad', '%'), 3)}`,
    String(results.get(v.id)!.map((r) => r.failed).join(', ')),
  ]);
  const targets: TargetCheck[] = [];
  for (const hedge of context.mode.tailHedge3 ? [2, 3] : [2]) {
    for (const kind of ['switchyard', 'grpc-js'] as const) {
      const cut = f(kind, 'p999', 'ms').median / f(`${kind}-hedge${hedge}`, 'p999', 'ms').median;
      const extra = f(`${kind}-hedge${hedge}`, 'extraLoad', '').median;
      targets.push({
        scenario: 'tail',
        target: `${kind === 'switchyard' ? 'switchyard' : 'grpc-js (reference)'} hedging ×${hedge}: p99.9 cut >= 5× for <= 15 % extra attempts`,
        measured: `${cut.toFixed(1)}× cut, +${(extra * 100).toFixed(1)} % attempts`,
        met: cut >= 5 && extra <= 0.15,
      });
    }
  }
  const chartValues = variants.flatMap((v) => latencyCcdf(latencies.get(v.id) ?? [], 100).map((p) => ({ variant: v.label, ...p })));
  return {
    id: 'tail',
    title: 'Tail latency',
    setup:
      `Three backends behind round_robin (ipv4: target); one delays ${SLOW_FRACTION * 100} % of its calls by ${SLOW_MS} ms. ` +
      `${context.mode.tailCalls} calls per run sent open loop at ${context.mode.tailRatePerSec} calls/s (at most ${CONCURRENCY} in flight), ` +
      `${context.mode.runs} runs interleaved across variants. ` +
      `Hedging: hedgingDelay ${HEDGING_DELAY_MS} ms, maxAttempts ${context.mode.tailHedge3 ? '2 or 3' : '2 (3 in full mode)'}. Extra load = attempts counted at the backends per call − 1. ` +
      `Ratios are against grpc-js round_robin without hedging.`,
    tables: [
      {
        caption: 'Latency in ms (median [min–max] over runs; ratio vs grpc-js round_robin) and extra attempts',
        columns: ['variant', 'p50', 'p99', 'p99.9', 'extra attempts (fraction)', 'failed calls per run'],
        rows,
      },
    ],
    charts: [
      {
        name: 'tail-latency',
        title: 'Latency distribution (fraction of calls slower than x), all runs',
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
          title: 'Latency distribution: fraction of calls slower than x (all runs pooled)',
          width: 520,
          height: 300,
          data: { values: chartValues },
          mark: { type: 'line', interpolate: 'step-after' },
          encoding: {
            x: { field: 'latencyMs', type: 'quantitative', scale: { type: 'log' }, title: 'latency ms (log)' },
            y: { field: 'slower', type: 'quantitative', scale: { type: 'log' }, title: 'fraction of calls slower (log)' },
            color: { field: 'variant', type: 'nominal', legend: { orient: 'bottom', columns: 2 } },
            strokeDash: { field: 'variant', type: 'nominal' },
          },
        },
      },
    ],
    targets,
    notes: [],
    data: Object.fromEntries([...results].map(([id, runs]) => [id, runs])),
  };
}

/** Scenario 4: p50/p99/p99.9 with one slow backend, with and without hedging. */
export const tailLatencyScenario: Scenario = { id: 'tail', title: 'Tail latency', run };
