import type { MachineInfo } from '../lib/machine';
import { describeMachine } from '../lib/machine';
import type { ReportTable, ScenarioResult, TargetCheck } from '../scenarios/types';
import { verdict } from './format';

/** Everything one benchmark run produced. */
export interface BenchRun {
  /** Report name, e.g. `2025-06-01-quick`: the JSON, Markdown and chart folder share it. */
  readonly name: string;
  readonly startedAt: string;
  readonly mode: string;
  readonly command: string;
  readonly durationS: number;
  readonly machine: MachineInfo;
  readonly scenarios: readonly ScenarioResult[];
  /** Scenarios that threw, with the message. */
  readonly failures: ReadonlyArray<{ id: string; error: string }>;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A Markdown table. */
export function table(t: Pick<ReportTable, 'columns' | 'rows'>): string {
  const head = `| ${t.columns.map(escapeCell).join(' | ')} |`;
  const rule = `|${t.columns.map(() => '---').join('|')}|`;
  return [head, rule, ...t.rows.map((r) => `| ${r.map(escapeCell).join(' | ')} |`)].join('\n');
}

/** The targets of issue "Benchmarks" as a Markdown table. */
export function targetsTable(targets: readonly TargetCheck[]): string {
  return table({
    columns: ['scenario', 'target', 'measured', 'verdict'],
    rows: targets.map((t) => [t.scenario, t.target, t.measured, verdict(t.met)]),
  });
}

/**
 * The Markdown report of a run; charts are linked as `<chartDir>/<name>.svg`, relative to the report.
 */
export function renderReport(run: BenchRun, chartDir: string): string {
  const out: string[] = [];
  out.push(`# switchyard benchmarks: ${run.name}`);
  out.push('');
  out.push(`- Started ${run.startedAt}, ${run.mode} mode, ${run.durationS.toFixed(0)} s: \`${run.command}\``);
  out.push(`- Machine: ${describeMachine(run.machine)}`);
  out.push('- Every figure is the median of the runs with [min–max]; ratios are against the baseline measured in the same run.');
  out.push('- Raw data: [`' + run.name + '.json`](' + run.name + '.json)');
  out.push('');
  const targets = run.scenarios.flatMap((s) => s.targets);
  if (targets.length > 0) {
    out.push('## Targets');
    out.push('');
    out.push('Reported, not asserted. Causes of missed targets are discussed in `docs/performance.md`.');
    out.push('');
    out.push(targetsTable(targets));
    out.push('');
  }
  if (run.failures.length > 0) {
    out.push('## Scenarios that failed');
    out.push('');
    for (const f of run.failures) out.push(`- **${f.id}**: ${f.error.split('\n')[0]}`);
    out.push('');
  }
  for (const s of run.scenarios) {
    out.push(`## ${s.title}`);
    out.push('');
    out.push(s.setup);
    out.push('');
    for (const t of s.tables) {
      out.push(`${t.caption}:`);
      out.push('');
      out.push(table(t));
      out.push('');
    }
    for (const c of s.charts) {
      out.push(`![${c.title}](${chartDir}/${c.name}.svg)`);
      out.push('');
    }
    for (const n of s.notes) out.push(`> ${n}\n`);
  }
  return `${out.join('\n').trimEnd()}\n`;
}
