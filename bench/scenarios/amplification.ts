import { startBackends, closeBackends } from '../lib/backends';
import type { ClientKind } from '../lib/clients';
import { startClientProcess, type ClientProcess } from '../lib/client-process';
import { serviceConfig } from '../lib/service-configs';
import { figure, withRatio, type Figure } from '../lib/stats';
import { figRatio, fig } from '../report/format';
import type { Scenario, ScenarioContext, ScenarioResult, TargetCheck } from './types';

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly kind: ClientKind;
  readonly retry: boolean;
  readonly throttling: boolean;
}

const VARIANTS: readonly Variant[] = [
  { id: 'no-retry', label: 'raw grpc-js, no retries', kind: 'raw', retry: false, throttling: false },
  { id: 'grpc-js-retry', label: 'grpc-js, retries, no throttling', kind: 'grpc-js', retry: true, throttling: false },
  { id: 'switchyard-retry', label: 'switchyard, retries, no throttling', kind: 'switchyard', retry: true, throttling: false },
  { id: 'grpc-js-throttled', label: 'grpc-js, retries + throttling', kind: 'grpc-js', retry: true, throttling: true },
  { id: 'switchyard-throttled', label: 'switchyard, retries + throttling', kind: 'switchyard', retry: true, throttling: true },
];

const CONCURRENCY = 64;

interface RunResult {
  /** Attempts per call over all calls / over the calls after the first 10 %, counted at the backend. */
  all: number;
  tail: number;
  /** switchyard only: the same from `channel.stats().attempts`. */
  channelAll?: number;
  channelTail?: number;
  failedCalls: number;
  series: Array<{ calls: number; attemptsPerCall: number }>;
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const { mode, progress } = context;
  const calls = mode.amplificationCalls;
  const batch = mode.amplificationBatch;
  const headCalls = Math.ceil(calls / 10 / batch) * batch;
  const [backend] = await startBackends([{ id: 'down', args: ['--fail-rate', '1', '--fail-code', '14'] }]);
  // grpc-js keeps its retry throttle per target for the life of the process, so every run gets a fresh
  // client process; they are all started up front, in parallel.
  const workers: ClientProcess[][] = [];
  try {
    progress.step(`starting ${VARIANTS.length * mode.amplificationRuns} client processes`);
    for (const _ of VARIANTS) {
      workers.push(await Promise.all(Array.from({ length: mode.amplificationRuns }, () => startClientProcess({ cpuProfileDir: context.cpuProfileDir }))));
    }
    const results = new Map<string, RunResult[]>();
    for (let r = 0; r < mode.amplificationRuns; r++) {
      for (const [v, variant] of VARIANTS.entries()) {
        const worker = workers[v]![r]!;
        await worker.open('s', {
          kind: variant.kind,
          target: backend!.address,
          serviceConfig: variant.kind === 'raw' ? undefined : serviceConfig({ retry: variant.retry, throttling: variant.throttling }),
        });
        await backend!.resetStats();
        const series: RunResult['series'] = [];
        let done = 0;
        let attempts = 0;
        let failed = 0;
        let headAttempts = 0;
        let headChannel = 0;
        while (done < calls) {
          const result = await worker.unary('s', { concurrency: CONCURRENCY, calls: Math.min(batch, calls - done), deadlineMs: 10_000 });
          failed += result.failed;
          const total = (await backend!.stats()).total.calls;
          series.push({ calls: done + result.calls, attemptsPerCall: (total - attempts) / result.calls });
          done += result.calls;
          attempts = total;
          if (done === headCalls) {
            headAttempts = total;
            headChannel = (await worker.stats('s'))?.attempts ?? 0;
          }
        }
        const channel = await worker.stats('s');
        const out: RunResult = {
          all: attempts / calls,
          tail: (attempts - headAttempts) / (calls - headCalls),
          channelAll: channel === undefined ? undefined : channel.attempts / calls,
          channelTail: channel === undefined ? undefined : (channel.attempts - headChannel) / (calls - headCalls),
          failedCalls: failed,
          series,
        };
        results.set(variant.id, [...(results.get(variant.id) ?? []), out]);
        progress.step(
          `${variant.label}: run ${r + 1}/${mode.amplificationRuns}: ${out.all.toFixed(3)} attempts/call, ` +
            `${out.tail.toFixed(3)} over the last ${calls - headCalls}`,
        );
        await worker.closeSession('s');
      }
    }
    return report(results, context, headCalls);
  } finally {
    await Promise.all(workers.flat().map((w) => w.close()));
    await closeBackends(backend ? [backend] : []);
  }
}

function report(results: Map<string, RunResult[]>, context: ScenarioContext, headCalls: number): ScenarioResult {
  const calls = context.mode.amplificationCalls;
  const figures = new Map<string, { all: Figure; tail: Figure; channelTail?: Figure }>();
  const base = results.get('no-retry')!;
  const baseAll = figure(base.map((r) => r.all), 'attempts/call');
  const baseTail = figure(base.map((r) => r.tail), 'attempts/call');
  for (const variant of VARIANTS) {
    const runs = results.get(variant.id)!;
    figures.set(variant.id, {
      all: withRatio(figure(runs.map((r) => r.all), 'attempts/call'), baseAll, 'no retries'),
      tail: withRatio(figure(runs.map((r) => r.tail), 'attempts/call'), baseTail, 'no retries'),
      channelTail: variant.kind === 'switchyard' ? figure(runs.map((r) => r.channelTail ?? Number.NaN), 'attempts/call') : undefined,
    });
  }
  const targets: TargetCheck[] = ['switchyard-throttled', 'grpc-js-throttled'].map((id) => {
    const f = figures.get(id)!;
    const measured = id.startsWith('switchyard') ? Math.max(f.tail.median, f.channelTail?.median ?? 0) : f.tail.median;
    return {
      scenario: 'amplification',
      target: `${id.startsWith('switchyard') ? 'switchyard' : 'grpc-js (reference)'} with throttling: <= 1.1 attempts/call over the last ${calls - headCalls} of ${calls} failing calls`,
      measured: `${measured.toFixed(3)} attempts/call`,
      met: measured <= 1.1,
    };
  });
  const chartValues = VARIANTS.flatMap((variant) =>
    results.get(variant.id)!.flatMap((run, r) => run.series.map((p) => ({ variant: variant.label, run: r + 1, calls: p.calls, attemptsPerCall: p.attemptsPerCall }))),
  );
  return {
    id: 'amplification',
    title: 'Retry amplification',
    setup:
      `One backend answering UNAVAILABLE to every call; ${calls} calls per run at concurrency ${CONCURRENCY}, ` +
      `${context.mode.amplificationRuns} run(s) per variant, each in a fresh client process. Retry policy: ` +
      `maxAttempts 5, backoff 5 ms ×2 up to 50 ms, on UNAVAILABLE; throttling: maxTokens 10, tokenRatio 0.1 (gRFC A6). ` +
      `Attempts are counted at the backend; switchyard's own count (channel.stats().attempts) is shown beside it.`,
    tables: [
      {
        caption: 'Attempts per call (median [min–max] over runs; ratio vs no retries)',
        columns: ['variant', 'all calls', `last ${calls - headCalls} calls`, 'last calls, switchyard stats', 'failed calls'],
        rows: VARIANTS.map((v) => {
          const f = figures.get(v.id)!;
          return [
            v.label,
            figRatio(f.all, 3),
            figRatio(f.tail, 3),
            f.channelTail === undefined ? '' : fig(f.channelTail, 3),
            String(results.get(v.id)!.map((r) => r.failedCalls).join(', ')),
          ];
        }),
      },
    ],
    charts: [
      {
        name: 'amplification',
        title: 'Attempts per call over time (per batch of calls)',
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
          title: `Attempts per call over time, backend failing everything (batches of ${context.mode.amplificationBatch} calls)`,
          width: 520,
          height: 260,
          data: { values: chartValues },
          mark: { type: 'line', point: true, interpolate: 'step-before' },
          encoding: {
            x: { field: 'calls', type: 'quantitative', title: 'calls completed' },
            y: { field: 'attemptsPerCall', type: 'quantitative', title: 'attempts per call (batch)', scale: { zero: true } },
            color: { field: 'variant', type: 'nominal', legend: { orient: 'bottom', columns: 2 } },
            strokeDash: { field: 'variant', type: 'nominal' },
            detail: { field: 'run', type: 'nominal' },
          },
        },
      },
    ],
    targets,
    notes: [],
    data: Object.fromEntries([...results].map(([id, runs]) => [id, { figures: figures.get(id), runs }])),
  };
}

/** Scenario 3: attempts per call against a backend that fails everything, with and without throttling. */
export const amplificationScenario: Scenario = { id: 'amplification', title: 'Retry amplification', run };
