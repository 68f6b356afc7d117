import * as path from 'node:path';
import { runJsonScript } from '../lib/run-script';
import { figure, withRatio, type Figure } from '../lib/stats';
import { fig, figRatio } from '../report/format';
import { PICK_POLICIES, type MicroRow } from '../micro/picks';
import type { Scenario, ScenarioContext, ScenarioResult, TargetCheck } from './types';

const SCRIPT = path.resolve(__dirname, '../micro/picks.ts');

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const { mode, progress } = context;
  progress.step(`tinybench, ${mode.runs} runs of ${mode.microTimeMs} ms per task, in a fresh process`);
  const { rows } = await runJsonScript<{ rows: MicroRow[] }>(SCRIPT, ['--json', '--time-ms', String(mode.microTimeMs), '--runs', String(mode.runs)]);
  const figures = rows.map((r) => ({ ...r, figure: figure(r.nsPerOp, 'ns') }));
  // Flatness: each pick figure against the same policy with 3 endpoints, measured in the same process.
  const withBase = figures.map((r) => {
    if (r.group !== 'pick') return r;
    const base = figures.find((b) => b.group === 'pick' && b.name === r.name && b.endpoints === 3)!;
    return { ...r, figure: withRatio(r.figure, base.figure, `${r.name}, 3 endpoints`) };
  });
  const targets: TargetCheck[] = [];
  for (const policy of PICK_POLICIES) {
    const picks = withBase.filter((r) => r.group === 'pick' && r.name === policy);
    const worst = Math.max(...picks.map((p) => p.figure.median));
    const big = picks.find((p) => p.endpoints === 10_000)!.figure;
    targets.push({
      scenario: 'picks',
      target: `${policy}: <= 100 ns per pick at 3, 100 and 10 000 endpoints`,
      measured: picks.map((p) => `${p.endpoints}: ${p.figure.median.toFixed(1)} ns`).join(', '),
      met: worst <= 100,
    });
    targets.push({
      scenario: 'picks',
      target: `${policy}: flat from 3 to 10 000 endpoints (10 000 within 1.5× of 3)`,
      measured: `${(big.ratio?.median ?? Number.NaN).toFixed(2)}×`,
      met: (big.ratio?.median ?? Number.POSITIVE_INFINITY) <= 1.5,
    });
  }
  const pickRows = withBase.filter((r) => r.group === 'pick');
  return {
    id: 'picks',
    title: 'Pick and lookup cost',
    setup:
      `Micro-benchmarks (tinybench) of every built-in policy's picker over fake READY subchannels (no I/O; a pick's ` +
      `load-feedback hook, if any, runs right after it, as at the end of the attempt), the ` +
      `per-call method-config lookup and one throttle update; ${mode.runs} runs of ${mode.microTimeMs} ms per ` +
      `task, each task looping 1 000 operations. Ratios are against the same policy with 3 endpoints.`,
    tables: [
      {
        caption: 'ns per operation (median [min–max] over runs)',
        columns: ['operation', 'endpoints', 'ns/op'],
        rows: withBase.map((r) => [r.name, r.endpoints === undefined ? '' : String(r.endpoints), r.group === 'pick' ? figRatio(r.figure, 1) : fig(r.figure, 1)]),
      },
    ],
    charts: [
      {
        name: 'picks',
        title: 'ns per pick vs READY endpoints (median, min–max)',
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
          title: 'ns per pick vs READY endpoints (median, min–max)',
          width: 420,
          height: 220,
          data: {
            values: pickRows.map((r) => ({ policy: r.name, endpoints: r.endpoints, ns: r.figure.median, min: r.figure.min, max: r.figure.max })),
          },
          layer: [
            {
              mark: { type: 'line', point: true },
              encoding: {
                x: { field: 'endpoints', type: 'quantitative', scale: { type: 'log' }, title: 'READY endpoints (log)' },
                y: { field: 'ns', type: 'quantitative', title: 'ns per pick', scale: { zero: true } },
                color: { field: 'policy', type: 'nominal' },
              },
            },
            {
              mark: 'rule',
              encoding: {
                x: { field: 'endpoints', type: 'quantitative', scale: { type: 'log' } },
                y: { field: 'min', type: 'quantitative' },
                y2: { field: 'max' },
                color: { field: 'policy', type: 'nominal' },
              },
            },
            { mark: { type: 'rule', strokeDash: [4, 4], color: 'red' }, encoding: { y: { datum: 100 } } },
          ],
        },
      },
    ],
    targets,
    notes: ['Picks are measured through the policy factories with a fake channel helper: the cost of the picker itself, not of queueing or attempts.'],
    data: withBase.map((r) => ({ group: r.group, name: r.name, endpoints: r.endpoints, figure: r.figure as Figure })),
  };
}

/** Scenario 2: ns per pick, method-config lookup and throttle update. */
export const picksScenario: Scenario = { id: 'picks', title: 'Pick and lookup cost', run };
