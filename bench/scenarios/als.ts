import * as path from 'node:path';
import { runJsonScript } from '../lib/run-script';
import { figure, type Figure } from '../lib/stats';
import { fig } from '../report/format';
import type { Scenario, ScenarioContext, ScenarioResult } from './types';

const SCRIPT = path.resolve(__dirname, '../micro/als-cost.ts');

interface AlsRow {
  phase: string;
  operation: string;
  nsPerOp: number;
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const { mode, progress } = context;
  // The script's phases depend on process-wide state (ALS's promise hook), so each run is a fresh process.
  const runs: AlsRow[][] = [];
  for (let r = 0; r < mode.runs; r++) {
    progress.step(`run ${r + 1}/${mode.runs} (fresh process, ${mode.microTimeMs} ms per task)`);
    runs.push((await runJsonScript<{ rows: AlsRow[] }>(SCRIPT, ['--json', '--time-ms', String(mode.microTimeMs)])).rows);
  }
  const rows = runs[0]!.map((row, i) => ({
    phase: row.phase,
    operation: row.operation,
    figure: figure(runs.map((rs) => rs[i]!.nsPerOp), 'ns') as Figure,
  }));
  const awaitBase = rows.find((r) => r.phase.startsWith('1.') && r.operation.startsWith('await'))?.figure;
  return {
    id: 'als',
    title: 'AsyncLocalStorage cost (deadline propagation)',
    setup:
      `bench/micro/als-cost.ts, once per run in a fresh process (${mode.runs} runs): what an \`await\` costs before and after ` +
      `AsyncLocalStorage is first entered, and the per-call context operations of \`runWithDeadline\` / \`propagateDeadlines\`.`,
    tables: [
      {
        caption: 'ns per operation (median [min–max] over runs); ratio of awaits vs phase 1',
        columns: ['phase', 'operation', 'ns/op', 'vs phase 1 await'],
        rows: rows.map((r) => [
          r.phase,
          r.operation,
          fig(r.figure, 1),
          r.operation.startsWith('await') && awaitBase !== undefined ? `${(r.figure.median / awaitBase.median).toFixed(2)}×` : '',
        ]),
      },
    ],
    charts: [],
    targets: [],
    notes: ['Only processes that use the deadline context (`runWithDeadline`, `propagateDeadlines`) pay phase 2/3 costs.'],
    data: rows,
  };
}

/** The AsyncLocalStorage micro-benchmark of `bench/micro/als-cost.ts`, as a scenario. */
export const alsScenario: Scenario = { id: 'als', title: 'AsyncLocalStorage cost', run };
