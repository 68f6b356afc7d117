import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { closeBackends, ipv4Target, startBackends } from '../lib/backends';
import type { ClientKind } from '../lib/clients';
import { startClientProcess, type ClientProcess } from '../lib/client-process';
import { figure, summarizeLatencies, withRatio, type Figure } from '../lib/stats';
import type { UnaryResult } from '../lib/unary-load';
import { fig, figRatio } from '../report/format';
import type { Scenario, ScenarioContext, ScenarioResult, TargetCheck } from './types';

/**
 * Scenario "degraded backend": four backends, one of which turns slow (10× latency), then failing
 * (50 % UNAVAILABLE, normal latency), while every variant sends the same steady open-loop load from its
 * own client process, all side by side. Backends report load out of band with grpc-js's own ORCA
 * service (`--orca oob`), for the weighted_round_robin variants.
 */

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly kind: ClientKind;
  readonly policy: object;
}

/**
 * Server work per call (the request's `delay_ms`); the slow phase adds 9× this (10× latency). Long
 * enough that a few calls are in flight per backend, which is what least_request compares.
 */
const SERVICE_MS = 20;
const RATE = 100;
const BUCKET_MS = 500;
const DEGRADED = 'b4';

/**
 * Outlier detection tuned for four backends: failure-percentage ejection (success-rate ejection can
 * never fire with four hosts at the default stdev factor), in grpc-js 1.14's snake_case form, which
 * switchyard accepts unchanged. grpc-js needs both `seconds` and `nanos` in a duration: without
 * `nanos` it rejects the config and silently falls back to pick_first.
 */
const OUTLIER_DETECTION = {
  interval: { seconds: 1, nanos: 0 },
  base_ejection_time: { seconds: 30, nanos: 0 },
  max_ejection_percent: 25,
  failure_percentage_ejection: { threshold: 30, enforcement_percentage: 100, minimum_hosts: 3, request_volume: 20 },
  child_policy: [{ round_robin: {} }],
};
const WEIGHTED_ROUND_ROBIN = {
  enable_oob_load_report: true,
  oob_load_reporting_period: { seconds: 0, nanos: 250_000_000 },
  blackout_period: { seconds: 1, nanos: 0 },
  weight_update_period: { seconds: 0, nanos: 250_000_000 },
};

const VARIANTS: readonly Variant[] = [
  { id: 'rr', label: 'switchyard round_robin', kind: 'switchyard', policy: { round_robin: {} } },
  { id: 'od', label: 'switchyard outlier_detection(round_robin)', kind: 'switchyard', policy: { outlier_detection: OUTLIER_DETECTION } },
  { id: 'lr', label: 'switchyard least_request', kind: 'switchyard', policy: { least_request: {} } },
  { id: 'wrr', label: 'switchyard weighted_round_robin + ORCA', kind: 'switchyard', policy: { weighted_round_robin: WEIGHTED_ROUND_ROBIN } },
  { id: 'pe', label: 'switchyard switchyard.peak_ewma', kind: 'switchyard', policy: { 'switchyard.peak_ewma': { decay: '5s' } } },
  { id: 'grpc-js-od', label: 'grpc-js outlier_detection(round_robin)', kind: 'grpc-js', policy: { outlier_detection: OUTLIER_DETECTION } },
  { id: 'grpc-js-wrr', label: 'grpc-js weighted_round_robin + ORCA', kind: 'grpc-js', policy: { weighted_round_robin: WEIGHTED_ROUND_ROBIN } },
];

const PHASES = ['healthy', 'slow', 'failing'] as const;
type Phase = (typeof PHASES)[number];

interface PhaseFigures {
  p50: number;
  p99: number;
  errorRate: number;
  /** Share of the phase's calls answered by (or failed on) the degraded backend — OK answers only. */
  degradedShare: number;
}

interface RunResult {
  phases: Record<Phase, PhaseFigures>;
  /** Per bucket: share of OK answers from the degraded backend, and failed calls. */
  buckets: Array<{ t: number; share: number; failed: number }>;
  /** ms from the start of the failing phase to the last call the degraded backend answered in it. */
  lastDegradedMs: number;
}

function analyse(result: UnaryResult, startAt: number, phaseMs: number): RunResult {
  const d = result.detail!;
  const degraded = result.backends.indexOf(DEGRADED);
  const perPhase = PHASES.map(() => ({ latencies: [] as number[], failed: 0, calls: 0, degraded: 0 }));
  const buckets = new Map<number, { ok: number; degraded: number; failed: number }>();
  let lastDegraded = 0;
  for (let i = 0; i < d.startMs.length; i++) {
    const t = d.startMs[i]! - startAt;
    const phase = Math.floor(t / phaseMs);
    if (phase < 0 || phase >= PHASES.length || Number.isNaN(d.latencyMs[i]!)) continue;
    const p = perPhase[phase]!;
    const ok = d.code[i] === grpc.status.OK;
    const onDegraded = ok && d.backend[i] === degraded;
    p.calls++;
    p.latencies.push(d.latencyMs[i]!);
    if (!ok) p.failed++;
    if (onDegraded) p.degraded++;
    if (onDegraded && phase === 2) lastDegraded = Math.max(lastDegraded, t - 2 * phaseMs);
    const key = Math.floor(t / BUCKET_MS) * BUCKET_MS;
    const bucket = buckets.get(key) ?? { ok: 0, degraded: 0, failed: 0 };
    if (ok) bucket.ok++;
    else bucket.failed++;
    if (onDegraded) bucket.degraded++;
    buckets.set(key, bucket);
  }
  const phases = Object.fromEntries(
    PHASES.map((name, i) => {
      const p = perPhase[i]!;
      const summary = summarizeLatencies(p.latencies);
      return [name, { p50: summary.p50, p99: summary.p99, errorRate: p.calls === 0 ? 0 : p.failed / p.calls, degradedShare: p.calls === 0 ? 0 : p.degraded / p.calls }];
    }),
  ) as Record<Phase, PhaseFigures>;
  return {
    phases,
    buckets: [...buckets].sort((a, b) => a[0] - b[0]).map(([t, b]) => ({ t, share: b.ok === 0 ? 0 : b.degraded / b.ok, failed: b.failed })),
    lastDegradedMs: lastDegraded,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const { mode, progress } = context;
  const phaseMs = Number(process.env.SWITCHYARD_BENCH_DEGRADED_PHASE_MS ?? (mode.name === 'quick' ? 4_000 : 15_000));
  const runs = mode.name === 'quick' ? 1 : mode.runs;
  const ids = ['b1', 'b2', 'b3', DEGRADED];
  const backends = await startBackends(ids.map((id) => ({ id, args: ['--orca', 'oob'] })));
  const degraded = backends[3]!;
  const workers: ClientProcess[] = [];
  try {
    workers.push(...(await Promise.all(VARIANTS.map(() => startClientProcess({ cpuProfileDir: context.cpuProfileDir })))));
    const target = ipv4Target(backends);
    const results = new Map<string, RunResult[]>();
    for (let r = 0; r < runs; r++) {
      await degraded.setBehaviour({});
      for (const [i, v] of VARIANTS.entries()) {
        await workers[i]!.open('s', { kind: v.kind, target, serviceConfig: { loadBalancingConfig: [v.policy] } });
        const warm = await workers[i]!.unary('s', { concurrency: 8, calls: 200, deadlineMs: 5_000 });
        if (warm.failed > 0) throw new Error(`${v.label}: ${warm.failed} of 200 warm-up calls failed: ${JSON.stringify(warm.codes)}`);
      }
      const startAt = performance.timeOrigin + performance.now();
      const jobs = workers.map((w) =>
        w.unary('s', {
          concurrency: 64,
          ratePerSec: RATE,
          durationMs: PHASES.length * phaseMs,
          deadlineMs: 2_000,
          request: { message: 'degraded', delay_ms: SERVICE_MS },
          detail: true,
        }),
      );
      await sleep(phaseMs);
      await degraded.setBehaviour({ delayMs: 9 * SERVICE_MS });
      progress.step(`run ${r + 1}/${runs}: ${DEGRADED} slow (${10 * SERVICE_MS} ms per call)`);
      await sleep(phaseMs);
      await degraded.setBehaviour({ failRate: 0.5, failCode: grpc.status.UNAVAILABLE });
      progress.step(`run ${r + 1}/${runs}: ${DEGRADED} failing 50 % with UNAVAILABLE`);
      const done = await Promise.all(jobs);
      for (const [i, v] of VARIANTS.entries()) {
        const out = analyse(done[i]!, startAt, phaseMs);
        results.set(v.id, [...(results.get(v.id) ?? []), out]);
        const f = out.phases;
        progress.step(
          `${v.label}: slow p99 ${f.slow.p99.toFixed(1)} ms (${DEGRADED} ${(f.slow.degradedShare * 100).toFixed(0)} %), ` +
            `failing: ${(f.failing.errorRate * 100).toFixed(1)} % errors (${DEGRADED} ${(f.failing.degradedShare * 100).toFixed(0)} %)`,
        );
        await workers[i]!.closeSession('s');
      }
    }
    return report(results, phaseMs, runs);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await closeBackends(backends);
  }
}

function report(results: Map<string, RunResult[]>, phaseMs: number, runs: number): ScenarioResult {
  const f = (id: string, phase: Phase, key: keyof PhaseFigures, unit: string): Figure =>
    figure(results.get(id)!.map((r) => r.phases[phase][key] * (unit === '%' ? 100 : 1)), unit);
  const rrSlowP99 = f('rr', 'slow', 'p99', 'ms');
  const rows = VARIANTS.flatMap((v) =>
    PHASES.map((phase) => [
      v.label,
      phase,
      fig(f(v.id, phase, 'p50', 'ms'), 1),
      phase === 'slow' ? figRatio(withRatio(f(v.id, phase, 'p99', 'ms'), rrSlowP99, 'switchyard round_robin, slow phase'), 1) : fig(f(v.id, phase, 'p99', 'ms'), 1),
      fig(f(v.id, phase, 'errorRate', '%'), 2),
      fig(f(v.id, phase, 'degradedShare', '%'), 1),
    ]),
  );
  const targets: TargetCheck[] = [];
  for (const id of ['lr', 'pe']) {
    const ratio = f(id, 'slow', 'p99', 'ms').median / rrSlowP99.median;
    targets.push({
      scenario: 'degraded',
      target: `${id === 'lr' ? 'least_request' : 'switchyard.peak_ewma'}: p99 against the slow backend <= 0.5× round_robin's`,
      measured: `${ratio.toFixed(2)}×`,
      met: ratio <= 0.5,
    });
  }
  for (const id of ['od', 'grpc-js-od']) {
    const last = figure(results.get(id)!.map((r) => r.lastDegradedMs), 'ms');
    targets.push({
      scenario: 'degraded',
      target: `${id === 'od' ? 'switchyard' : 'grpc-js (reference)'} outlier_detection: ejects the 50 %-failing backend within two intervals (2 s)`,
      measured: `last call answered by it ${(last.median / 1000).toFixed(1)} s into the failing phase`,
      met: last.max <= 2_000,
    });
  }
  const chartValues = VARIANTS.flatMap((v) =>
    results.get(v.id)!.flatMap((run, r) => run.buckets.map((b) => ({ variant: v.label, run: r + 1, t: b.t / 1000, share: b.share }))),
  );
  return {
    id: 'degraded',
    title: 'Degraded backend',
    setup:
      `Four backends (child processes, ${SERVICE_MS} ms of server work per call, ORCA out of band through grpc-js's ` +
      `ServerMetricRecorder). Each variant sends ${RATE} calls/s open loop (deadline 2 s) from its own client process, all ` +
      `side by side. Phases of ${phaseMs / 1000} s: healthy; ${DEGRADED} slow (10× latency); ${DEGRADED} failing 50 % of its ` +
      `calls with UNAVAILABLE at normal latency. outlier_detection: failure percentage 30 %, 3 hosts, 20 calls, 1 s interval. ` +
      `weighted_round_robin: OOB reports every 250 ms, blackout 1 s. ${runs} run(s). p99 ratios in the slow phase are ` +
      `against switchyard round_robin.`,
    tables: [
      {
        caption: 'Per phase (median [min–max] over runs): latency of all calls, error rate, share of OK answers from the degraded backend',
        columns: ['variant', 'phase', 'p50 ms', 'p99 ms', 'errors %', `${DEGRADED} share %`],
        rows,
      },
    ],
    charts: [
      {
        name: 'degraded-share',
        title: `Share of answers from ${DEGRADED} per ${BUCKET_MS} ms`,
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
          title: `Share of answers from the degraded backend (${DEGRADED}) per ${BUCKET_MS} ms; slow from ${phaseMs / 1000} s, failing from ${(2 * phaseMs) / 1000} s`,
          width: 560,
          height: 280,
          data: { values: chartValues },
          layer: [
            {
              mark: { type: 'line', interpolate: 'step-after' },
              encoding: {
                x: { field: 't', type: 'quantitative', title: 's since the load started' },
                y: { field: 'share', type: 'quantitative', title: `share of answers from ${DEGRADED}`, axis: { format: '%' } },
                color: { field: 'variant', type: 'nominal', legend: { orient: 'bottom', columns: 2 } },
                strokeDash: { field: 'variant', type: 'nominal' },
                detail: { field: 'run', type: 'nominal' },
              },
            },
            {
              // Own data: the phase boundaries, one rule each (not one per inherited data point).
              data: { values: [{ t: phaseMs / 1000 }, { t: (2 * phaseMs) / 1000 }] },
              mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
              encoding: { x: { field: 't', type: 'quantitative' } },
            },
          ],
        },
      },
    ],
    targets,
    notes: [
      'peak_ewma and least_request do not react to errors: a backend failing fast looks cheap to them (see docs/load-balancing.md).',
      'The weighted_round_robin split against reported weights is checked exactly by test/integration/policies/weighted-round-robin.test.ts.',
    ],
    data: Object.fromEntries([...results].map(([id, r]) => [id, r.map(({ buckets: _b, ...rest }) => rest)])),
  };
}

/** Scenario: one of four backends turns slow, then failing, under every balancing policy. */
export const degradedScenario: Scenario = { id: 'degraded', title: 'Degraded backend', run };
