/**
 * switchyard's optional peer dependencies (`@opentelemetry/api`, `etcd3`, `cockatiel`): a plain install
 * without them works, loads none of them, and an `etcd:` target reports which package to install.
 * Each case runs in a fresh child process in which the packages are made impossible to load.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../helpers/etcd-server';

function runChild(args: string[], hide: string, env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(join(__dirname, '../helpers/hide-packages.mjs')).href, '--import', pathToFileURL(require.resolve('tsx')).href,
        join(__dirname, '../helpers/optional-deps-child.ts'), ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HIDE_PACKAGES: hide, SWITCHYARD_TRACE: '', SWITCHYARD_VERBOSITY: '', ...env } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`child exited with ${code}: ${err}`));
      try {
        resolve({ ...(JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>), stderr: err });
      } catch {
        reject(new Error(`unexpected child output: ${out} ${err}`));
      }
    });
  });
}

describe('optional peer dependencies', () => {
  it('calls work without @opentelemetry/api, etcd3 and cockatiel, and none of them is loaded', async () => {
    const result = await runChild(['call'], '@opentelemetry/api,etcd3,cockatiel');
    expect(result).toEqual({ reply: 'hi', loaded: [], stderr: '' });
  });

  it('with @opentelemetry/api installed but no SDK registered, only the API itself is loaded', async () => {
    // Breaking the no-op check would not show here (the API is all there is); the unit test of
    // resolveProviders covers that the channel then records nothing per call.
    const result = await runChild(['call'], 'etcd3,cockatiel');
    expect(result).toEqual({ reply: 'hi', loaded: ['@opentelemetry/api'], stderr: '' });
  });

  it('an etcd: target without etcd3 reports the missing package by name', async () => {
    const [closedPort] = await freePorts(1);
    const result = await runChild(['etcd', String(closedPort)], 'etcd3');
    expect(result.error).toMatch(/optional peer dependency "etcd3".*npm install etcd3 cockatiel/);
  });

  it('SWITCHYARD_TRACE=all logs the resolver, balancer, subchannel, call and commit (retry) decisions to stderr', async () => {
    const result = await runChild(['call'], '@opentelemetry/api', { SWITCHYARD_TRACE: 'all' });
    const lines = String(result.stderr).trim().split('\n');
    const line = /^\d{4}-\d\d-\d\dT[\d:.]+Z [DIE] switchyard\[\d+ ipv4:127\.0\.0\.1:\d+\] (\w+): /;
    expect(lines.every((l) => line.test(l))).toBe(true);
    const categories = new Set(lines.map((l) => line.exec(l)![1]));
    expect([...categories].sort()).toEqual(['balancer', 'call', 'resolver', 'retry', 'subchannel']);
    expect(lines.some((l) => / call: \/switchyard\.demo\.Echo\/Unary: ended OK after/.test(l))).toBe(true);
    expect(lines.some((l) => / balancer: CONNECTING -> READY/.test(l))).toBe(true);
  });
});
