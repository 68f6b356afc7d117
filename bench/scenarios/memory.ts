import type { ClientKind } from '../lib/clients';
import { startClientProcess, type ClientProcess } from '../lib/client-process';
import type { MemoryResult } from '../lib/memory-probe';
import { startMultiPortServers } from '../lib/multi-port';
import { serviceConfig } from '../lib/service-configs';
import { figure, withRatio, type Figure } from '../lib/stats';
import { fig, figRatio } from '../report/format';
import type { ReportChart, Scenario, ScenarioContext, ScenarioResult } from './types';

interface Case {
  readonly kind: ClientKind;
  readonly endpoints: number;
}

const SERVER_PROCESSES = 4;
const MIB = 1024 * 1024;

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const { mode, progress } = context;
  const maxEndpoints = Math.max(...mode.memoryEndpoints);
  progress.step(`starting echo servers on ${maxEndpoints} ports in ${SERVER_PROCESSES} processes`);
  const servers = await startMultiPortServers(maxEndpoints, SERVER_PROCESSES);
  const cases: Case[] = mode.memoryEndpoints.flatMap((n) =>
    (n === 1 ? (['raw', 'grpc-js', 'switchyard'] as const) : (['grpc-js', 'switchyard'] as const)).map((kind) => ({ kind, endpoints: n })),
  );
  const results = new Map<string, MemoryResult[]>();
  const key = (c: Case): string => `${c.kind}@${c.endpoints}`;
  try {
    for (let r = 0; r < mode.memoryRuns; r++) {
      // A fresh client process per case, so each delta is one channel's; started up front in parallel.
      const workers: ClientProcess[] = await Promise.all(cases.map(() => startClientProcess()));
      try {
        for (const [i, c] of cases.entries()) {
          const addresses = servers.addresses.slice(0, c.endpoints);
          const result = await workers[i]!.memory({
            spec: {
              kind: c.kind,
              target: c.kind === 'raw' ? addresses[0]! : `ipv4:${addresses.join(',')}`,
              serviceConfig: c.kind === 'raw' ? undefined : serviceConfig({ policy: 'round_robin' }),
            },
            warmCalls: Math.max(50, 3 * c.endpoints),
            inflight: mode.memoryInflight,
          });
          results.set(key(c), [...(results.get(key(c)) ?? []), result]);
          progress.step(
            `run ${r + 1}/${mode.memoryRuns}: ${c.kind}, ${c.endpoints} endpoint(s): heap +${(result.heapBytes / MIB).toFixed(2)} MiB, ` +
              `RSS +${(result.rssBytes / MIB).toFixed(1)} MiB, ${(result.heapPerCallBytes / 1024).toFixed(2)} KiB heap per in-flight call`,
          );
          await workers[i]!.close();
        }
      } finally {
        await Promise.all(workers.map((w) => w.close()));
      }
    }
  } finally {
    await servers.close();
  }
  return report(cases, results, context);
}

function report(cases: readonly Case[], results: Map<string, MemoryResult[]>, context: ScenarioContext): ScenarioResult {
  const key = (c: Case): string => `${c.kind}@${c.endpoints}`;
  const f = (c: Case, field: keyof MemoryResult, scale: number, unit: string): Figure =>
    figure(results.get(key(c))!.map((r) => (r[field] as number) / scale), unit);
  const rows = cases.map((c) => {
    const builtin = { kind: 'grpc-js' as const, endpoints: c.endpoints };
    const heap = withRatio(f(c, 'heapBytes', MIB, 'MiB'), f(builtin, 'heapBytes', MIB, 'MiB'), 'grpc-js built-in');
    const rss = withRatio(f(c, 'rssBytes', MIB, 'MiB'), f(builtin, 'rssBytes', MIB, 'MiB'), 'grpc-js built-in');
    const perCall = withRatio(f(c, 'heapPerCallBytes', 1024, 'KiB'), f(builtin, 'heapPerCallBytes', 1024, 'KiB'), 'grpc-js built-in');
    const warm = results.get(key(c))!;
    return [
      c.kind,
      String(c.endpoints),
      figRatio(heap, 2),
      figRatio(rss, 1),
      figRatio(perCall, 2),
      fig(f(c, 'rssPerCallBytes', 1024, 'KiB'), 2),
      warm.map((w) => `${w.warmFailures}`).join(', '),
    ];
  });
  const chartValues = cases.map((c) => {
    const heap = f(c, 'heapBytes', MIB, 'MiB');
    const rss = f(c, 'rssBytes', MIB, 'MiB');
    return { client: c.kind, endpoints: String(c.endpoints), heap: heap.median, rss: rss.median };
  });
  const chart: ReportChart = {
    name: 'memory',
    title: 'Heap and RSS growth of one connected channel',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Memory of one connected channel (MiB, median over runs)',
      data: { values: chartValues },
      transform: [{ fold: ['heap', 'rss'], as: ['measure', 'MiB'] }],
      facet: { column: { field: 'measure', type: 'nominal', title: null } },
      spec: {
        width: 240,
        height: 220,
        mark: 'bar',
        encoding: {
          x: { field: 'endpoints', type: 'ordinal', title: 'connected endpoints', sort: ['1', '100', '1000'] },
          xOffset: { field: 'client', sort: ['raw', 'grpc-js', 'switchyard'] },
          y: { field: 'MiB', type: 'quantitative', title: 'MiB over the bare process' },
          color: { field: 'client', type: 'nominal', sort: ['raw', 'grpc-js', 'switchyard'] },
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
  return {
    id: 'memory',
    title: 'Memory',
    setup:
      `One client per fresh client process (--expose-gc, two full GCs before each reading), connected to 1, 100 or 1000 ` +
      `echo endpoints (one grpc-js server per process listening on many ports, ${SERVER_PROCESSES} processes) through round_robin, ` +
      `proven by ${'3×'} endpoints warm-up calls. Then ${context.mode.memoryInflight} calls held in flight (requests the server never answers). ` +
      `${context.mode.memoryRuns} run(s). Ratios are against grpc-js built-in with the same endpoints.`,
    tables: [
      {
        caption: 'Growth over the bare client process (median [min–max] over runs; ratio vs grpc-js built-in)',
        columns: ['client', 'endpoints', 'heap MiB', 'RSS MiB', 'heap KiB per in-flight call', 'RSS KiB per in-flight call', 'failed warm-up calls'],
        rows,
      },
    ],
    charts: [chart],
    targets: [],
    notes: ['RSS deltas include allocator slack and are noisy at small sizes; heap deltas are the channel\'s live JS objects.'],
    data: Object.fromEntries([...results]),
  };
}

/** Scenario 7: heap and RSS per connected endpoint and per in-flight call. */
export const memoryScenario: Scenario = { id: 'memory', title: 'Memory', run };
