/**
 * Importing switchyard must not load `etcd3` (nor its dependency `cockatiel`): applications that do
 * not use the etcd resolver should not pay for it. Checked in a fresh child process, since this test
 * process may already have loaded them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../helpers/etcd-server';

function runChild(closedPort: number): Promise<{ afterImport: string[]; afterUse: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(require.resolve('tsx')).href, join(__dirname, '../helpers/etcd-lazy-child.ts'), String(closedPort)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`child exited with ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!));
      } catch {
        reject(new Error(`unexpected child output: ${out} ${err}`));
      }
    });
  });
}

describe('lazy loading of etcd3', () => {
  it('importing switchyard loads neither etcd3 nor cockatiel; the first etcd resolution does', async () => {
    // A port that was free a moment ago: nothing listens, so the resolver fails fast (loopback only).
    const [closedPort] = await freePorts(1);
    const result = await runChild(closedPort!);
    expect(result.afterImport).toEqual([]);
    expect(result.afterUse).toEqual(['cockatiel', 'etcd3']);
  });
});
