#!/usr/bin/env node
// `npm test`: make sure the real services the integration suites need are there, run vitest, and end
// with one plain summary line. In CI (CI=true) a missing service fails the run instead of skipping.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { ensureServices, installCommand } from './services.mjs';

const missing = ensureServices();
if (missing.length > 0) {
  const line = `SKIPPING the ${missing.map((s) => s.name).join(' and ')} suites: not installed. Install with: ${installCommand(missing)}`;
  if (process.env.CI === 'true') {
    console.error(`switchyard: CI requires ${missing.map((s) => s.name).join(', ')}. ${installCommand(missing)}`);
    process.exit(1);
  }
  const bar = '!'.repeat(Math.min(120, line.length));
  console.error(`\n${bar}\n${line}\n${bar}\n`);
}

mkdirSync('.tmp', { recursive: true });
const report = '.tmp/vitest-report.json';
rmSync(report, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const result = spawnSync('npx', args, { stdio: 'inherit' });

try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = json.numPendingTests + json.numTodoTests;
  console.log(`\nswitchyard: ${json.numPassedTests} passed, ${json.numFailedTests} failed, ${skipped} skipped`);
} catch {
  console.log('\nswitchyard: no test report was written');
}
process.exit(result.status ?? 1);
