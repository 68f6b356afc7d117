/**
 * `npm run bench [-- --quick] [--only a,b] [--cpu-prof] [--no-docs]`
 *
 * Runs every benchmark scenario side by side for raw grpc-js, grpc-js with its built-in policies and
 * switchyard, then writes `bench/results/<name>.json`, `bench/results/<name>.md` and the SVG charts in
 * `bench/results/<name>/`, where `<name>` is the date (`2025-06-01`, or `2025-06-01-quick`). A complete
 * run also rewrites the generated block of `docs/performance.md`. Progress goes to stderr.
 *
 * Options: `--quick` smoke check (about two minutes on 2 cores); `--only overhead,picks` a subset (the
 * docs are then left alone); `--cpu-prof` client processes write V8 CPU profiles to
 * `bench/results/profiles/`; `--out DIR` another results folder; `--no-docs` leave docs alone.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FULL, QUICK } from './lib/mode';
import { machineInfo } from './lib/machine';
import { createProgress } from './lib/progress';
import { renderSvg } from './report/charts';
import { updateDocs } from './report/docs';
import { renderReport, type BenchRun } from './report/markdown';
import { alsScenario } from './scenarios/als';
import { amplificationScenario } from './scenarios/amplification';
import { degradedScenario } from './scenarios/degraded';
import { failoverScenario } from './scenarios/failover';
import { memoryScenario } from './scenarios/memory';
import { overheadScenario } from './scenarios/overhead';
import { picksScenario } from './scenarios/picks';
import { scaleUpScenario } from './scenarios/scale-up';
import { tailLatencyScenario } from './scenarios/tail-latency';
import type { Scenario, ScenarioResult } from './scenarios/types';

/** Every scenario, in report order. */
export const SCENARIOS: readonly Scenario[] = [
  overheadScenario,
  picksScenario,
  alsScenario,
  amplificationScenario,
  tailLatencyScenario,
  failoverScenario,
  degradedScenario,
  scaleUpScenario,
  memoryScenario,
];

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
      'cpu-prof': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`usage: npm run bench -- [--quick] [--only ${SCENARIOS.map((s) => s.id).join(',')}] [--cpu-prof] [--out DIR] [--no-docs]\n`);
    return;
  }
  const mode = values.quick ? QUICK : FULL;
  const only = values.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  const selected = SCENARIOS.filter((s) => only === undefined || only.includes(s.id));

  const startedAt = new Date();
  const name = `${startedAt.toISOString().slice(0, 10)}${mode.name === 'quick' ? '-quick' : ''}`;
  const outDir = path.resolve(values.out);
  const chartDir = path.join(outDir, name);
  mkdirSync(chartDir, { recursive: true });
  const cpuProfileDir = values['cpu-prof'] ? path.join(outDir, 'profiles') : undefined;
  if (cpuProfileDir !== undefined) mkdirSync(cpuProfileDir, { recursive: true });

  const machine = machineInfo();
  const progress = createProgress();
  progress.step(`${mode.name} run of ${selected.length} scenario(s) on ${machine.cpus} CPUs, Node ${machine.node}; output ${path.relative(process.cwd(), outDir)}/${name}.*`);
  const results: ScenarioResult[] = [];
  const failures: Array<{ id: string; error: string }> = [];
  for (const [i, scenario] of selected.entries()) {
    progress.scenario(scenario.id, i + 1, selected.length);
    progress.step('start');
    try {
      const result = await scenario.run({ mode, progress, cpuProfileDir });
      results.push(result);
      for (const t of result.targets) progress.step(`target ${t.met === undefined ? '?' : t.met ? 'met' : 'MISSED'}: ${t.target}: ${t.measured}`);
    } catch (error) {
      const message = error instanceof Error ? error.stack ?? error.message : String(error);
      failures.push({ id: scenario.id, error: message });
      progress.step(`FAILED: ${message}`);
    }
  }
  progress.scenario('report', selected.length, selected.length);

  const run: BenchRun = {
    name,
    startedAt: startedAt.toISOString(),
    mode: mode.name,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    durationS: progress.elapsedS(),
    machine: { ...machine, loadAverage: { start: machine.loadAverage.start, end: os.loadavg()[0]! } },
    scenarios: results,
    failures,
  };
  for (const scenario of results) {
    for (const chart of scenario.charts) {
      try {
        writeFileSync(path.join(chartDir, `${chart.name}.svg`), await renderSvg(chart.spec));
      } catch (error) {
        progress.step(`chart ${chart.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  const jsonFile = path.join(outDir, `${name}.json`);
  const reportFile = path.join(outDir, `${name}.md`);
  writeFileSync(
    jsonFile,
    `${JSON.stringify({ ...run, mode: mode.name, settings: mode, scenarios: results.map((s) => ({ id: s.id, title: s.title, setup: s.setup, targets: s.targets, data: s.data })) }, null, 1)}\n`,
  );
  writeFileSync(reportFile, renderReport(run, name));
  progress.step(`wrote ${path.relative(process.cwd(), reportFile)}, ${path.relative(process.cwd(), jsonFile)} and charts in ${path.relative(process.cwd(), chartDir)}/`);
  if (only === undefined && !values['no-docs']) {
    const docs = path.join(ROOT, 'docs', 'performance.md');
    updateDocs(docs, run, reportFile);
    progress.step(`updated ${path.relative(process.cwd(), docs)}`);
  }
  if (cpuProfileDir !== undefined) progress.step(`CPU profiles in ${path.relative(process.cwd(), cpuProfileDir)}/ (summarize with npx tsx bench/report/profile-summary.ts FILE)`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
