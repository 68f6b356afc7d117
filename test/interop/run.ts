/**
 * `npm run test:interop`: the gRPC interop cases (grpc/grpc `doc/interop-test-descriptions.md`) through
 * a switchyard channel, every case × mode as its own client process against interop servers in their
 * own processes, then a table. Exit code 1 when any cell fails.
 *
 * Modes: `plaintext`; `tls` (a test CA made for the run, the server certificate valid only for
 * `interop.switchyard.test`, reached at 127.0.0.1 with `--server_host_override`); `retry` (a retry
 * policy for every TestService method in the default service config); `gzip` (grpc-js
 * `grpc.default_compression_algorithm` on the channel; its clients connect through a byte-counting TCP
 * proxy, and the run fails if large_unary's 271 828 zero bytes crossed it uncompressed).
 *
 * Flags: `--cases=a,b` and `--modes=a,b` select; `--control` adds a row per case for plain grpc-js (the
 * same client with `--channel=grpc-js`), which must pass everything; `--hold-event-loop` runs the
 * clients with a ref'd timer (diagnosis: shows what fails beyond a process exiting early);
 * `--soak-iterations=N` (default 10); `--concurrency=N` clients at once (default 2);
 * `--timeout-ms=N` per client (default 30 000: a client still running then has hung).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createTestCertificates } from '../helpers/tls';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { startScript, type ScriptExit, type ScriptProcess } from '../helpers/script-process';
import { CASES } from './cases';
import { parseFlags } from './flags';

const CLIENT = path.resolve(__dirname, 'client.ts');
const SERVER = path.resolve(__dirname, 'server.ts');
const TLS_NAME = 'interop.switchyard.test';
const RETRY_CONFIG = JSON.stringify({
  methodConfig: [{
    name: [{ service: 'grpc.testing.TestService' }],
    retryPolicy: {
      maxAttempts: 3, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'],
    },
  }],
});

type Mode = 'plaintext' | 'tls' | 'retry' | 'gzip';
const MODES: readonly Mode[] = ['plaintext', 'tls', 'retry', 'gzip'];

/** The result of one client process. */
interface Cell {
  readonly result: 'PASS' | 'FAIL' | 'EARLY-EXIT' | 'HANG' | 'NO-EXIT' | 'CRASH';
  readonly detail: string;
}

function classify(exit: ScriptExit): Cell {
  const last = exit.stdout.trim().split('\n').pop() ?? '';
  const said = last.split(' ')[0];
  if (exit.timedOut) {
    // It printed its verdict but did not exit: something still holds its event loop after close().
    if (said === 'PASS' || said === 'FAIL') return { result: 'NO-EXIT', detail: `did not exit after "${last}"` };
    return { result: 'HANG', detail: 'no result before the timeout' };
  }
  // The client's line is `<RESULT> <case>[:] <detail>`.
  const detail = last.replace(/^\S+ \S+?:? /, '');
  if (exit.code === 0 && said === 'PASS') return { result: 'PASS', detail };
  if (exit.code === 1 && said === 'FAIL') return { result: 'FAIL', detail };
  if (exit.code === 3 && said === 'EARLY-EXIT') return { result: 'EARLY-EXIT', detail };
  return { result: 'CRASH', detail: `exit ${exit.code ?? exit.signal}: ${last} ${exit.stderr.trim().split('\n').slice(-3).join(' | ')}` };
}

async function startServer(args: readonly string[]): Promise<{ port: number; process: ScriptProcess }> {
  const server = startScript(SERVER, args, { stdinPipe: true });
  const line = await server.waitForLine((l) => l.startsWith('{'), 30_000);
  return { port: (JSON.parse(line) as { port: number }).port, process: server };
}

/** Runs `jobs` with at most `limit` at once. */
async function pool<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

function table(rows: readonly string[], modes: readonly Mode[], cells: Map<string, Cell>): string {
  const width = Math.max(...rows.map((r) => r.length), 4);
  const cellWidth = Math.max(...modes.map((m) => m.length), 10);
  const line = (first: string, rest: readonly string[]): string =>
    `| ${first.padEnd(width)} | ${rest.map((c) => c.padEnd(cellWidth)).join(' | ')} |`;
  const out = [line('case', modes), `|${'-'.repeat(width + 2)}|${modes.map(() => '-'.repeat(cellWidth + 2)).join('|')}|`];
  for (const row of rows) out.push(line(row, modes.map((mode) => cells.get(`${row}/${mode}`)?.result ?? '')));
  return out.join('\n');
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const cases = (flags.get('cases') ?? Object.keys(CASES).join(',')).split(',');
  const modes = (flags.get('modes') ?? MODES.join(',')).split(',') as Mode[];
  for (const name of cases) if (!(name in CASES)) throw new Error(`unknown case "${name}"`);
  for (const mode of modes) if (!MODES.includes(mode)) throw new Error(`unknown mode "${mode}"`);
  const channels = flags.has('control') ? ['switchyard', 'grpc-js'] : ['switchyard'];
  const timeoutMs = Number(flags.get('timeout-ms') ?? '30000');
  const common = [`--soak_iterations=${flags.get('soak-iterations') ?? '10'}`];
  if (flags.has('hold-event-loop')) common.push('--hold_event_loop=true');

  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-interop-'));
  const certificates = createTestCertificates(TLS_NAME);
  const file = (name: string, content: Buffer): string => {
    writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  };
  const caFile = file('ca.pem', certificates.caPem);
  const servers = await Promise.all([
    startServer(['--port=0']),
    startServer(['--port=0', '--use_tls=true', `--cert_file=${file('server.pem', certificates.certPem)}`,
      `--key_file=${file('server.key', certificates.keyPem)}`]),
  ]);
  const [plain, tls] = servers;
  const gzipProxy = await startTcpProxy(plain.port);
  const modeArgs: Record<Mode, string[]> = {
    plaintext: [`--server_port=${plain.port}`],
    tls: [`--server_port=${tls.port}`, '--use_tls=true', '--use_test_ca=true', `--ca_file=${caFile}`,
      `--server_host_override=${TLS_NAME}`],
    retry: [`--server_port=${plain.port}`, `--service_config_json=${RETRY_CONFIG}`],
    gzip: [`--server_port=${gzipProxy.port}`, '--default_compression=gzip'],
  };

  const rows: string[] = [];
  const jobs: (() => Promise<void>)[] = [];
  const cells = new Map<string, Cell>();
  for (const name of cases) {
    for (const channel of channels) {
      const row = channel === 'switchyard' ? name : `${name} (grpc-js)`;
      rows.push(row);
      for (const mode of modes) {
        jobs.push(async () => {
          const args = [`--test_case=${name}`, `--channel=${channel}`, ...modeArgs[mode], ...common];
          const cell = classify(await startScript(CLIENT, args, { timeoutMs }).exited);
          cells.set(`${row}/${mode}`, cell);
          process.stderr.write(cell.result === 'PASS' ? '.' : 'x');
        });
      }
    }
  }
  const startedAt = Date.now();
  try {
    await pool(jobs, Number(flags.get('concurrency') ?? '2'));
  } finally {
    await gzipProxy.close();
    await Promise.all(servers.map((s) => s.process.kill()));
    rmSync(dir, { recursive: true, force: true });
  }
  process.stderr.write('\n');
  console.log(table(rows, modes, cells));
  const failed = [...cells].filter(([, cell]) => cell.result !== 'PASS');
  // One line per distinct reason, with the cells it applies to.
  const reasons = new Map<string, string[]>();
  for (const [key, cell] of failed) {
    const reason = `${cell.result}: ${cell.detail}`;
    reasons.set(reason, [...(reasons.get(reason) ?? []), key]);
  }
  for (const [reason, keys] of reasons) console.log(`\n${reason}\n  in ${keys.join(', ')}`);
  let wireProblem = false;
  if (modes.includes('gzip') && cells.get('large_unary/gzip')?.result === 'PASS' && gzipProxy.bytesUp() >= 271_828) {
    wireProblem = true;
    console.log(`\ngzip: ${gzipProxy.bytesUp()} bytes went to the server: large_unary's payload was not compressed`);
  }
  console.log(`\ninterop: ${cells.size - failed.length} of ${cells.size} passed in ${Math.round((Date.now() - startedAt) / 1000)} s`);
  process.exitCode = failed.length > 0 || wireProblem ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
