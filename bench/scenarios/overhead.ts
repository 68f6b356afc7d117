import { startBackends, closeBackends } from '../lib/backends';
import { CLIENT_KINDS, type ClientKind } from '../lib/clients';
import { startClientProcess, type ClientProcess } from '../lib/client-process';
import { serviceConfig } from '../lib/service-configs';
import { figure, median, withRatio, type Figure } from '../lib/stats';
import { fig, figRatio, num } from '../report/format';
import type { ReportChart, Scenario, ScenarioContext, ScenarioResult, TargetCheck } from './types';

/** One measured condition: a call shape under one service config. */
interface Condition {
  readonly id: string;
  readonly label: string;
  readonly shape: { readonly kind: 'unary'; readonly concurrency: number } | { readonly kind: 'bidi'; readonly window: number };
  readonly config: 'none' | 'retry';
}

const CONDITIONS: readonly Condition[] = [
  { id: 'unary-c1', label: 'unary, concurrency 1', shape: { kind: 'unary', concurrency: 1 }, config: 'none' },
  { id: 'unary-c64', label: 'unary, concurrency 64', shape: { kind: 'unary', concurrency: 64 }, config: 'none' },
  { id: 'bidi', label: 'bidi stream, 64 in flight', shape: { kind: 'bidi', window: 64 }, config: 'none' },
  { id: 'unary-c1-retry', label: 'unary, concurrency 1', shape: { kind: 'unary', concurrency: 1 }, config: 'retry' },
  { id: 'unary-c64-retry', label: 'unary, concurrency 64', shape: { kind: 'unary', concurrency: 64 }, config: 'retry' },
  { id: 'bidi-retry', label: 'bidi stream, 64 in flight', shape: { kind: 'bidi', window: 64 }, config: 'retry' },
];

const CONFIG_LABEL = { none: 'no retry policy', retry: 'retry policy, unused' } as const;

/** Per kind: throughput (calls or messages per s) and client CPU per call/message (µs). */
type KindFigures = Record<ClientKind, { rate: Figure; cpu: Figure; p99?: Figure }>;

async function measure(
  worker: ClientProcess,
  condition: Condition,
  durationMs: number,
): Promise<{ rate: number; cpuPerOp: number; p99?: number }> {
  if (condition.shape.kind === 'unary') {
    const r = await worker.unary(condition.config, { concurrency: condition.shape.concurrency, durationMs });
    if (r.failed > 0) throw new Error(`${r.failed} of ${r.calls} calls failed: ${JSON.stringify(r.codes)}`);
    return { rate: (r.calls / r.elapsedMs) * 1000, cpuPerOp: r.cpuUs / r.calls, p99: r.latency.p99 };
  }
  const r = await worker.bidi(condition.config, { window: condition.shape.window, durationMs });
  return { rate: (r.messages / r.elapsedMs) * 1000, cpuPerOp: r.cpuUs / r.messages };
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const { mode, progress } = context;
  const [backend] = await startBackends([{ id: 'b1' }]);
  const workers = new Map<ClientKind, ClientProcess>();
  try {
    // One client process per kind, so each keeps its own JIT state and heap; runs are interleaved
    // across kinds so that machine noise hits all three alike.
    await Promise.all(
      CLIENT_KINDS.map(async (kind) => workers.set(kind, await startClientProcess({ cpuProfileDir: context.cpuProfileDir, cpuProfileSubdir: `overhead-${kind}` }))),
    );
    for (const [kind, worker] of workers) {
      for (const config of ['none', 'retry'] as const) {
        await worker.open(config, {
          kind,
          target: backend!.address,
          serviceConfig: kind === 'raw' ? undefined : serviceConfig({ retry: config === 'retry' }),
        });
      }
    }
    const results = new Map<string, KindFigures>();
    for (const condition of CONDITIONS) {
      progress.step(`${condition.label}, ${CONFIG_LABEL[condition.config]}: warm-up`);
      for (const kind of CLIENT_KINDS) await measure(workers.get(kind)!, condition, mode.overheadWarmupMs);
      const runs: Record<ClientKind, { rate: number[]; cpu: number[]; p99: number[] }> = {
        raw: { rate: [], cpu: [], p99: [] },
        'grpc-js': { rate: [], cpu: [], p99: [] },
        switchyard: { rate: [], cpu: [], p99: [] },
      };
      for (let r = 0; r < mode.overheadRuns; r++) {
        const line: string[] = [];
        // Rotate the order each run, so no client always runs right after the same one.
        const order = CLIENT_KINDS.map((_, i) => CLIENT_KINDS[(i + r) % CLIENT_KINDS.length]!);
        for (const kind of order) {
          const m = await measure(workers.get(kind)!, condition, mode.overheadRunMs);
          runs[kind].rate.push(m.rate);
          runs[kind].cpu.push(m.cpuPerOp);
          if (m.p99 !== undefined) runs[kind].p99.push(m.p99);
          line.push(`${kind} ${num(m.rate)}/s ${m.cpuPerOp.toFixed(1)} µs`);
        }
        progress.step(`${condition.label}, ${CONFIG_LABEL[condition.config]}: run ${r + 1}/${mode.overheadRuns}: ${line.join(', ')}`);
      }
      const raw = { rate: figure(runs.raw.rate, '/s'), cpu: figure(runs.raw.cpu, 'µs') };
      const figures = {} as KindFigures;
      for (const kind of CLIENT_KINDS) {
        const rate = figure(runs[kind].rate, condition.shape.kind === 'unary' ? 'calls/s' : 'msgs/s');
        const cpu = figure(runs[kind].cpu, condition.shape.kind === 'unary' ? 'µs/call' : 'µs/msg');
        figures[kind] = {
          rate: withRatio(rate, raw.rate, 'raw grpc-js'),
          cpu: withRatio(cpu, raw.cpu, 'raw grpc-js'),
          p99: runs[kind].p99.length > 0 ? figure(runs[kind].p99, 'ms') : undefined,
        };
      }
      results.set(condition.id, figures);
    }
    return report(results, context);
  } finally {
    await Promise.all([...workers.values()].map((w) => w.close()));
    await closeBackends(backend ? [backend] : []);
  }
}

function report(results: Map<string, KindFigures>, context: ScenarioContext): ScenarioResult {
  const rows: string[][] = [];
  for (const condition of CONDITIONS) {
    const f = results.get(condition.id)!;
    for (const kind of CLIENT_KINDS) {
      rows.push([
        condition.label,
        CONFIG_LABEL[condition.config],
        kind,
        figRatio(f[kind].rate),
        figRatio(f[kind].cpu, 1),
        f[kind].p99 === undefined ? '' : fig(f[kind].p99, 2),
      ]);
    }
  }
  const targets: TargetCheck[] = [];
  for (const id of ['unary-c64', 'unary-c64-retry'] as const) {
    const f = results.get(id)!;
    const config = CONFIG_LABEL[id === 'unary-c64' ? 'none' : 'retry'];
    // Paired per-run ratios (the runs of the three clients are interleaved), so slow phases of a noisy
    // machine cancel out instead of landing on one client.
    const vsRaw = withRatio(f.switchyard.rate, f.raw.rate, 'raw grpc-js').ratio!.median;
    const vsBuiltin = withRatio(f.switchyard.rate, f['grpc-js'].rate, 'grpc-js built-in').ratio!.median;
    targets.push({
      scenario: 'overhead',
      target: `calls/s >= 0.97 x raw grpc-js, concurrency 64, ${config}`,
      measured: `${vsRaw.toFixed(3)}× (median of per-run ratios; medians ${num(f.switchyard.rate.median)} vs ${num(f.raw.rate.median)} calls/s)`,
      met: vsRaw >= 0.97,
    });
    targets.push({
      scenario: 'overhead',
      target: `calls/s >= 1.0 x grpc-js built-in, concurrency 64, ${config}`,
      measured: `${vsBuiltin.toFixed(3)}× (median of per-run ratios; medians ${num(f.switchyard.rate.median)} vs ${num(f['grpc-js'].rate.median)} calls/s)`,
      met: vsBuiltin >= 1.0,
    });
    const diffs = f.switchyard.cpu.runs.map((v, i) => v - (f.raw.cpu.runs[i] ?? Number.NaN));
    const added = median(diffs);
    targets.push({
      scenario: 'overhead',
      target: `added client CPU <= 5 µs/call vs raw grpc-js, concurrency 64, ${config}`,
      measured: `${added >= 0 ? '+' : ''}${added.toFixed(1)} µs/call (median of per-run differences; medians ${f.switchyard.cpu.median.toFixed(1)} vs ${f.raw.cpu.median.toFixed(1)})`,
      met: added <= 5,
    });
  }
  const chartData = CONDITIONS.flatMap((c) =>
    CLIENT_KINDS.map((kind) => {
      const f = results.get(c.id)![kind];
      return {
        condition: `${c.label} / ${CONFIG_LABEL[c.config]}`,
        client: kind,
        rate: f.rate.median,
        rateMin: f.rate.min,
        rateMax: f.rate.max,
        cpu: f.cpu.median,
        cpuMin: f.cpu.min,
        cpuMax: f.cpu.max,
      };
    }),
  );
  const charts: ReportChart[] = [
    groupedBars('overhead-throughput', 'Throughput (calls/s or messages/s), median with min–max', chartData, 'rate', 'per second'),
    groupedBars('overhead-cpu', 'Client CPU per call or message (µs), median with min–max', chartData, 'cpu', 'CPU µs'),
  ];
  const data = Object.fromEntries([...results].map(([id, f]) => [id, f]));
  return {
    id: 'overhead',
    title: 'Overhead',
    setup:
      `One echo backend process; each client kind in its own client process (CPU from process.cpuUsage()), ` +
      `${context.mode.overheadRuns} runs of ${context.mode.overheadRunMs} ms per figure, interleaved across kinds in rotating order, after a ` +
      `${context.mode.overheadWarmupMs} ms warm-up. Small messages (17-byte string). Ratios are against raw grpc-js.`,
    tables: [
      {
        caption: 'Throughput and client CPU (median [min–max] over runs; ratio vs raw grpc-js in the same run)',
        columns: ['shape', 'service config', 'client', 'calls or msgs/s', 'CPU µs per call/msg', 'p99 ms'],
        rows,
      },
    ],
    charts,
    targets,
    notes: [],
    data,
  };
}

/** A grouped bar chart (one group per condition, one bar per client) with min–max error bars. */
function groupedBars(name: string, title: string, values: object[], field: 'rate' | 'cpu', axis: string): ReportChart {
  return {
    name,
    title,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      data: { values },
      facet: {
        row: {
          field: 'condition',
          type: 'nominal',
          title: null,
          sort: CONDITIONS.map((c) => `${c.label} / ${CONFIG_LABEL[c.config]}`),
          header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start', labelFontWeight: 'bold' },
        },
      },
      spec: {
        width: 420,
        height: 60,
        layer: [
          {
            mark: 'bar',
            encoding: {
              y: { field: 'client', type: 'nominal', title: null, sort: ['raw', 'grpc-js', 'switchyard'] },
              x: { field, type: 'quantitative', title: axis },
              color: { field: 'client', type: 'nominal', sort: ['raw', 'grpc-js', 'switchyard'] },
            },
          },
          {
            mark: { type: 'rule', color: 'black' },
            encoding: {
              y: { field: 'client', type: 'nominal', sort: ['raw', 'grpc-js', 'switchyard'] },
              x: { field: `${field}Min`, type: 'quantitative' },
              x2: { field: `${field}Max` },
            },
          },
        ],
      },
      resolve: { scale: { x: 'independent' } },
    },
  };
}

/** Scenario 1: what switchyard costs per call against raw grpc-js and grpc-js's built-in policies. */
export const overheadScenario: Scenario = { id: 'overhead', title: 'Overhead', run };
