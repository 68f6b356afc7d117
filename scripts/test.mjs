#!/usr/bin/env node
// `npm test`: make sure the real services the integration suites need are there, run vitest, and end
// with one plain summary line. In CI (CI=true) a missing service fails the run instead of skipping.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
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
const progressFile = `.tmp/vitest-progress-${process.pid}.json`;
rmSync(progressFile, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=./scripts/progress-reporter.mjs', ...process.argv.slice(2)];
const child = spawn('npx', args, {
  stdio: 'inherit',
  detached: true,
  env: { ...process.env, SWITCHYARD_PROGRESS_FILE: progressFile },
});

function readProgress() {
  if (!existsSync(progressFile)) return undefined;
  try {
    return JSON.parse(readFileSync(progressFile, 'utf8'));
  } catch {
    return undefined;
  }
}

// vitest 4 sometimes never exits after every file has finished (its worker pool hangs in shutdown on a
// busy machine). Give it a grace period, then stop it and report from the progress file.
const GRACE_MS = 30_000;
let allFinishedAt;
let killedForHang = false;
const watchdog = setInterval(() => {
  const progress = readProgress();
  if (!progress || progress.total === 0 || progress.finished < progress.total) return;
  allFinishedAt ??= Date.now();
  if (Date.now() - allFinishedAt < GRACE_MS) return;
  killedForHang = true;
  console.error(`\nswitchyard: vitest did not exit ${GRACE_MS / 1000} s after its last test file finished (vitest 4 pool shutdown hang); stopping it.`);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}, 1_000);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  });
}

child.on('exit', (code, signal) => {
  clearInterval(watchdog);
  const progress = readProgress();
  let status = code ?? 1;
  if (progress) {
    console.log(`\nswitchyard: ${progress.passed} passed, ${progress.failed} failed, ${progress.skipped} skipped`);
    if (progress.failedFiles.length > 0) console.log(`switchyard: failing files: ${progress.failedFiles.join(', ')}`);
    if (killedForHang) status = progress.failed > 0 || progress.failedFiles.length > 0 ? 1 : 0;
  } else {
    console.log(`\nswitchyard: no test report was written (vitest ${signal ? `killed by ${signal}` : `exited ${code}`})`);
  }
  rmSync(progressFile, { force: true });
  process.exit(status);
});
