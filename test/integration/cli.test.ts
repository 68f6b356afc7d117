/**
 * The `switchyard` command line, run as a child process (`node --import tsx src/cli/main.ts`), as a
 * user runs `npx switchyard`: exit status, stdout and stderr.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../helpers/etcd-server';

const MAIN = join(__dirname, '../../src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));

function cli(args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, MAIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(stdin ?? '');
  });
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const VALID = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: [{ service: 'shop.Orders' }],
      timeout: '2s',
      retryPolicy: { maxAttempts: 4, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
      waitForready: true,
    },
    { name: [{ service: 'shop.Catalog', method: 'Search' }], hedgingPolicy: { maxAttempts: 3, hedgingDelay: '0.02s' } },
  ],
  retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
};

describe('switchyard check-config', () => {
  it('prints the effective settings per method and the warnings; exit 0', async () => {
    const { code, out } = await cli(['check-config', file('valid.json', VALID)]);
    expect(code).toBe(0);
    expect(out).toContain('load balancing: round_robin');
    expect(out).toContain('retry throttling: maxTokens 10, tokenRatio 0.1');
    expect(out).toMatch(/shop\.Orders\/\*\n {4}timeout: 2s\n {4}waitForReady: false\n {4}retry: up to 4 attempts on UNAVAILABLE/);
    expect(out).toMatch(/shop\.Catalog\/Search\n {4}timeout: none\n[\s\S]*hedging: up to 3 attempts, one every 0\.020s/);
    expect(out).toContain('methodConfig[0].waitForready: unknown field, ignored (did you mean "waitForReady"?)');
    expect(out).toMatch(/\nvalid\n$/);
  });

  it('with --strict, a warning fails the check', async () => {
    const { code } = await cli(['check-config', '--strict', file('valid2.json', VALID)]);
    expect(code).toBe(1);
  });

  it('prints the JSON path of every error, reading standard input; exit 1', async () => {
    const broken = {
      methodConfig: [{ name: [{}], timeout: 'soon' }, { name: [{ service: 'a' }], retryPolicy: { maxAttempts: 1 } }],
      retryThrottling: { maxTokens: 0, tokenRatio: 0.1 },
    };
    const { code, err } = await cli(['check-config', '-'], JSON.stringify(broken));
    expect(code).toBe(1);
    const paths = err.split('\n').filter((l) => l.startsWith('error: ')).map((l) => l.split(':')[1]!.trim()).sort();
    expect(paths).toEqual(['methodConfig[0].timeout', 'methodConfig[1].retryPolicy.maxAttempts', 'retryThrottling.maxTokens']);
  });

  it('reports unparseable JSON and usage errors', async () => {
    expect(await cli(['check-config', file('bad.json', '{ nope')])).toMatchObject({ code: 1, err: expect.stringContaining('error: serviceConfig: is not valid JSON') });
    expect((await cli(['check-config'])).code).toBe(2);
    expect((await cli(['check-config', '--bogus', 'x'])).code).toBe(2);
    expect((await cli(['no-such-command'])).code).toBe(2);
  });

  it('--json prints the validation result', async () => {
    const { code, out } = await cli(['check-config', '--json', file('valid3.json', VALID)]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ valid: true, errors: [], warnings: [{ path: 'methodConfig[0].waitForready' }] });
  });
});

describe('switchyard resolve', () => {
  it('prints the endpoints of a target; exit 0', async () => {
    const { code, out } = await cli(['resolve', 'ipv4:127.0.0.1:50051,127.0.0.1:50052']);
    expect(code).toBe(0);
    expect(out).toMatch(/2 endpoint\(s\):\n {2}127\.0\.0\.1:50051\n {2}127\.0\.0\.1:50052\nservice config from the resolver: none\n/);
    const json = await cli(['resolve', '--json', 'unix:/tmp/switchyard.sock']);
    expect(JSON.parse(json.out)).toMatchObject({ endpoints: [{ addresses: ['unix:/tmp/switchyard.sock'] }] });
  });

  it('prints the resolver error; exit 1 (an etcd cluster that is not there)', async () => {
    const [closedPort] = await freePorts(1);
    const { code, out } = await cli(['resolve', `etcd://127.0.0.1:${closedPort}/orders`]);
    expect(code).toBe(1);
    expect(out).toMatch(/ error: /);
  });

  it('rejects an unknown scheme; exit 2', async () => {
    const { code, err } = await cli(['resolve', 'nope:///x']);
    expect(code).toBe(2);
    expect(err).toContain('unknown scheme "nope"');
  });
});
