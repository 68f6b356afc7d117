import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { closeBackends, ipv4Target, startBackends } from '../lib/backends';
import type { ClientKind } from '../lib/clients';
import { startClientProcess, type ClientProcess } from '../lib/client-process';
import { serviceConfig } from '../lib/service-configs';
import { figure, summarizeLatencies, withRatio } from '../lib/stats';
import type { UnaryResult } from '../lib/unary-load';
import { fig, figRatio } from '../report/format';
import type { Scenario, ScenarioContext, ScenarioResult, TargetCheck } from './types';

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly kind: ClientKind;
  readonly retry: boolean;
}

const VARIANTS: readonly Variant[] = [
  { id: 'grpc-js', label: 'grpc-js round_robin', kind: 'grpc-js', retry: false },
  { id: 'switchyard', label: 'switchyard round_robin', kind: 'switchyard', retry: false },
  { id: 'grpc-js-retry', label: 'grpc-js + retry on UNAVAILABLE', kind: 'grpc-js', retry: true },
  { id: 'switchyard-retry', label: 'switchyard + retry on UNAVAILABLE', kind: 'switchyard', retry: true },
];

/** Steady load per variant (calls/s), and how long before and after the kill it runs (ms). */
const RATE = 150;
/** Server-side work per call (ms, the echo request's `delay_ms`), so that a few calls are in flight on each backend at the kill. */
const SERVICE_MS = 50;
const BEFORE_MS = 1_500;
const WINDOW_MS = 5_000;
const BUCKET_MS = 250;

interface RunResult {
  /** Calls that ended with an error within WINDOW_MS after the kill (in flight at the kill included). */
  failed: number;
  /** Calls that ended in that window. */
  calls: number;
  /** p99 latency of those calls, ms. */
  p99: number;
  /** Failed calls of that window by grpc status name (UNAVAILABLE from the kill; DEADLINE_EXCEEDED from stalls). */
  codes: Record<string, number>;
  /** Failed calls per BUCKET_MS bucket, from -BEFORE_MS to +WINDOW_MS around the kill. */
  buckets: Array<{ t: number; failed: number; calls: number }>;
}

function analyse(result: UnaryResult, killAt: number): RunResult {
  const d = result.detail!;
  const latencies: number[] = [];
  let failed = 0;
  const codes: Record<string, number> = {};
  const buckets = new Map<number, { failed: number; calls: number }>();
  for (let i = 0; i < d.startMs.length; i++) {
    const end = d.startMs[i]! + d.latencyMs[i]!;
    const ok = d.code[i] === 0;
    const t = Math.floor((end - killAt) / BUCKET_MS) * BUCKET_MS;
    const bucket = buckets.get(t) ?? { failed: 0, calls: 0 };
    bucket.calls++;
    if (!ok) bucket.failed++;
    buckets.set(t, bucket);
    if (end >= killAt && end < killAt + WINDOW_MS) {
      latencies.push(d.latencyMs[i]!);
      if (!ok) {
        failed++;
        const name = grpc.status[d.code[i]!] ?? String(d.code[i]);
        codes[name] = (codes[name] ?? 0) + 1;
      }
    }
  }
  return {
    failed,
    calls: latencies.length,
    p99: summarizeLatencies(latencies).p99,
    codes,
    buckets: [...buckets].map(([t, b]) => ({ t, ...b })).filter((b) => b.t >= -BEFORE_MS && b.t < WINDOW_MS).sort((a, b) => a.t - b.t),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const { mode, progress } = context;
  const backends = await startBackends([{ id: 'b1' }, { id: 'b2' }, { id: 'b3' }]);
  const victim = backends[2]!;
  const workers: ClientProcess[] = [];
  try {
    workers.push(...(await Promise.all(VARIANTS.map(() => startClientProcess({ cpuProfileDir: context.cpuProfileDir })))));
    const target = ipv4Target(backends);
    const results = new Map<string, RunResult[]>();
    for (let r = 0; r < mode.failoverRuns; r++) {
      // All variants run side by side against the same backends, so one kill hits them at the same moment.
      for (const [i, v] of VARIANTS.entries()) {
        await workers[i]!.open('s', { kind: v.kind, target, serviceConfig: serviceConfig({ policy: 'round_robin', retry: v.retry }) });
        const warm = await workers[i]!.unary('s', { concurrency: 16, calls: 200, deadlineMs: 5_000 });
        if (warm.failed > 0) throw new Error(`${v.label}: ${warm.failed} of 200 warm-up calls failed: ${JSON.stringify(warm.codes)}`);
      }
      const jobs = workers.map((w) =>
        w.unary('s', {
          concurrency: 64,
          ratePerSec: RATE,
          durationMs: BEFORE_MS + WINDOW_MS + 500,
          deadlineMs: 2_000,
          request: { message: 'failover', delay_ms: SERVICE_MS },
          detail: true,
        }),
      );
      await sleep(BEFORE_MS);
      const killAt = performance.timeOrigin + performance.now();
      await victim.kill('SIGKILL');
      progress.step(`run ${r + 1}/${mode.failoverRuns}: ${victim.id} SIGKILLed under ${VARIANTS.length} × ${RATE} calls/s`);
      const done = await Promise.all(jobs);
      for (const [i, v] of VARIANTS.entries()) {
        const out = analyse(done[i]!, killAt);
        results.set(v.id, [...(results.get(v.id) ?? []), out]);
        progress.step(
          `${v.label}: ${out.failed} of ${out.calls} calls failed in the ${WINDOW_MS / 1000} s after the kill ` +
            `${JSON.stringify(out.codes)}, p99 ${out.p99.toFixed(1)} ms`,
        );
        await workers[i]!.closeSession('s');
      }
      await victim.restart();
    }
    return report(results, context);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await closeBackends(backends);
  }
}

function report(results: Map<string, RunResult[]>, context: ScenarioContext): ScenarioResult {
  const failed = (id: string) => figure(results.get(id)!.map((r) => r.failed), 'calls');
  const p99 = (id: string) => figure(results.get(id)!.map((r) => r.p99), 'ms');
  const baseP99 = p99('grpc-js');
  const targets: TargetCheck[] = ['switchyard-retry', 'grpc-js-retry'].map((id) => ({
    scenario: 'failover',
    target: `${id.startsWith('switchyard') ? 'switchyard' : 'grpc-js (reference)'} with a retry policy on UNAVAILABLE: zero failed calls after a SIGKILL`,
    measured: `${results.get(id)!.map((r) => r.failed).join(', ')} failed (per run)${failureCodes(results.get(id)!)}`,
    met: results.get(id)!.every((r) => r.failed === 0),
  }));
  const chartValues = VARIANTS.flatMap((v) =>
    results.get(v.id)!.flatMap((run, r) => run.buckets.map((b) => ({ variant: v.label, run: r + 1, t: b.t / 1000, failed: b.failed }))),
  );
  return {
    id: 'failover',
    title: 'Failover',
    setup:
      `Three backends behind round_robin, each call taking ${SERVICE_MS} ms on the server; each variant sends a steady ` +
      `${RATE} calls/s (deadline 2 s) from its own client ` +
      `process, all side by side; after ${BEFORE_MS / 1000} s one backend is SIGKILLed (connections reset, no GOAWAY). ` +
      `Counted: calls that ended in the ${WINDOW_MS / 1000} s after the kill. ${context.mode.failoverRuns} run(s); ` +
      `the backend is restarted on the same port between runs. p99 ratios are against grpc-js round_robin.`,
    tables: [
      {
        caption: `Calls ending in the ${WINDOW_MS / 1000} s after the kill (median [min–max] over runs)`,
        columns: ['variant', 'failed calls', 'failures by status (all runs)', 'calls', 'p99 ms'],
        rows: VARIANTS.map((v) => [
          v.label,
          fig(failed(v.id)),
          failureCodes(results.get(v.id)!).replace(/^; /, ''),
          fig(figure(results.get(v.id)!.map((r) => r.calls), 'calls')),
          figRatio(withRatio(p99(v.id), baseP99, 'grpc-js round_robin'), 1),
        ]),
      },
    ],
    charts: [
      {
        name: 'failover',
        title: `Failed calls per ${BUCKET_MS} ms around the kill (t = 0)`,
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
          title: `Failed calls per ${BUCKET_MS} ms, backend SIGKILLed at t = 0`,
          width: 520,
          height: 240,
          data: { values: chartValues },
          mark: { type: 'line', point: true, interpolate: 'step-after' },
          encoding: {
            x: { field: 't', type: 'quantitative', title: 's since the kill' },
            y: { field: 'failed', type: 'quantitative', title: `failed calls per ${BUCKET_MS} ms` },
            color: { field: 'variant', type: 'nominal', legend: { orient: 'bottom', columns: 2 } },
            strokeDash: { field: 'variant', type: 'nominal' },
            detail: { field: 'run', type: 'nominal' },
          },
        },
      },
    ],
    targets,
    notes: ['raw grpc-js on one backend has no failover to measure: with its only backend killed every call fails.'],
    data: Object.fromEntries([...results].map(([id, runs]) => [id, runs.map(({ buckets: _b, ...rest }) => rest)])),
  };
}

/** `; UNAVAILABLE 3, DEADLINE_EXCEEDED 1` over all runs, or '' without failures. */
function failureCodes(runs: readonly RunResult[]): string {
  const total: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.codes)) total[code] = (total[code] ?? 0) + n;
  const parts = Object.entries(total).map(([code, n]) => `${code} ${n}`);
  return parts.length === 0 ? '' : `; ${parts.join(', ')}`;
}

/** Scenario 5: one of three backends SIGKILLed under steady load. */
export const failoverScenario: Scenario = { id: 'failover', title: 'Failover', run };
