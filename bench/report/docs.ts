import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describeMachine } from '../lib/machine';
import { table, targetsTable, type BenchRun } from './markdown';

/** Markers around the part of `docs/performance.md` that each complete run rewrites. */
export const DOCS_BEGIN = '<!-- bench:latest:begin (written by `npm run bench`; edit outside these markers) -->';
export const DOCS_END = '<!-- bench:latest:end -->';

/** The generated block: run, machine, link to the report, targets and each scenario's main table. */
export function latestBlock(run: BenchRun, reportPathFromDocs: string): string {
  const out: string[] = [DOCS_BEGIN, ''];
  out.push(`Latest run: **${run.name}** (${run.mode} mode, ${run.startedAt}), full report with charts: [${reportPathFromDocs}](${reportPathFromDocs}).`);
  out.push('');
  out.push(`Machine: ${describeMachine(run.machine)}.`);
  out.push('');
  const targets = run.scenarios.flatMap((s) => s.targets);
  if (targets.length > 0) {
    out.push('### Targets');
    out.push('');
    out.push(targetsTable(targets));
    out.push('');
  }
  for (const s of run.scenarios) {
    const main = s.tables[0];
    if (main === undefined) continue;
    out.push(`### ${s.title}`);
    out.push('');
    out.push(`${main.caption}:`);
    out.push('');
    out.push(table(main));
    out.push('');
  }
  if (run.failures.length > 0) {
    out.push(`Scenarios that failed in this run: ${run.failures.map((f) => f.id).join(', ')}.`);
    out.push('');
  }
  out.push(DOCS_END);
  return out.join('\n');
}

/**
 * Replaces the generated block of `docsFile` (appending it when the markers are missing).
 * @param reportFile absolute path of the run's Markdown report, linked relative to the docs file.
 */
export function updateDocs(docsFile: string, run: BenchRun, reportFile: string): void {
  const link = path.relative(path.dirname(docsFile), reportFile).split(path.sep).join('/');
  const block = latestBlock(run, link);
  const current = existsSync(docsFile) ? readFileSync(docsFile, 'utf8') : '# Performance\n';
  const begin = current.indexOf(DOCS_BEGIN);
  const end = current.indexOf(DOCS_END);
  const next =
    begin >= 0 && end > begin
      ? current.slice(0, begin) + block + current.slice(end + DOCS_END.length)
      : `${current.trimEnd()}\n\n## Latest figures\n\n${block}\n`;
  writeFileSync(docsFile, next);
}
