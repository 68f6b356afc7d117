/**
 * Where switchyard's per-call overhead goes: runs the overhead scenario's unary load (concurrency 64, one
 * backend) in a raw grpc-js client process and a switchyard client process, both under `--cpu-prof`,
 * then prints CPU µs per call by file and the functions whose per-call self time differs most.
 *
 *   npx tsx bench/profile-overhead.ts [--seconds 10] [--retry] [--out bench/results/profiles]
 *
 * Self time per call = a function's sampled self time / calls completed by that process; the load runs
 * in alternating slices so both processes see the same machine. Sampling adds its own overhead, so
 * compare the two columns, not the absolute numbers with the benchmark's.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { closeBackends, startBackends } from './lib/backends';
import { startClientProcess } from './lib/client-process';
import type { ClientKind } from './lib/clients';
import { serviceConfig } from './lib/service-configs';
import { summarizeProfile, type ProfileSummary } from './report/profile-summary';

const KINDS: readonly ClientKind[] = ['raw', 'switchyard'];

function mainThreadProfile(dir: string): ProfileSummary {
  // Node names profiles CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile; thread 0 is the main thread.
  const file = readdirSync(dir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (file === undefined) throw new Error(`no main-thread profile in ${dir}`);
  return summarizeProfile(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      retry: { type: 'boolean', default: false },
      out: { type: 'string', default: path.resolve(__dirname, 'results', 'profiles') },
    },
  });
  const seconds = Number(values.seconds);
  const outDir = path.resolve(values.out);
  const [backend] = await startBackends([{ id: 'b1' }]);
  const calls = new Map<ClientKind, number>();
  try {
    const workers = await Promise.all(
      KINDS.map(async (kind) => {
        const subdir = `profile-overhead-${kind}`;
        rmSync(path.join(outDir, subdir), { recursive: true, force: true });
        mkdirSync(path.join(outDir, subdir), { recursive: true });
        const worker = await startClientProcess({ cpuProfileDir: outDir, cpuProfileSubdir: subdir });
        await worker.open('s', {
          kind,
          target: backend!.address,
          serviceConfig: kind === 'raw' ? undefined : serviceConfig({ retry: values.retry }),
        });
        await worker.unary('s', { concurrency: 64, durationMs: 1_000 });
        return { kind, worker };
      }),
    );
    const sliceMs = 1_000;
    for (let t = 0; t < seconds * 1000; t += sliceMs) {
      for (const { kind, worker } of workers) {
        const r = await worker.unary('s', { concurrency: 64, durationMs: sliceMs });
        calls.set(kind, (calls.get(kind) ?? 0) + r.calls);
      }
    }
    await Promise.all(workers.map((w) => w.worker.close()));
  } finally {
    await closeBackends(backend ? [backend] : []);
  }
  const summaries = new Map(KINDS.map((kind) => [kind, mainThreadProfile(path.join(outDir, `profile-overhead-${kind}`))]));
  // The warm-up second and start-up are in the profile too: count them as calls-free overhead, equal for both.
  const perCall = (kind: ClientKind, us: number): number => us / calls.get(kind)!;
  console.log(`calls measured: ${KINDS.map((k) => `${k} ${calls.get(k)}`).join(', ')}`);
  console.log('\nbusy CPU µs per call by file (top 15, switchyard vs raw):');
  const files = new Set([...summaries.get('switchyard')!.files.slice(0, 15), ...summaries.get('raw')!.files.slice(0, 15)].map((f) => f.file));
  const fileRows = [...files]
    .filter((f) => f !== '(native/vm)')
    .map((file) => {
      const get = (kind: ClientKind): number => perCall(kind, summaries.get(kind)!.files.find((f) => f.file === file)?.selfUs ?? 0);
      return { file, raw: get('raw'), switchyard: get('switchyard') };
    })
    .sort((a, b) => b.switchyard - b.raw - (a.switchyard - a.raw));
  for (const r of fileRows) console.log(`${r.raw.toFixed(2).padStart(8)} ${r.switchyard.toFixed(2).padStart(8)} ${(r.switchyard - r.raw).toFixed(2).padStart(8)}  ${r.file}`);
  console.log('\nfunctions with the largest extra self time per call in switchyard (µs: raw, switchyard, difference):');
  const key = (f: { name: string; file: string }): string => `${f.name} ${f.file}`;
  const rawFns = new Map(summaries.get('raw')!.functions.map((f) => [key(f), f.selfUs]));
  const syFns = summaries.get('switchyard')!.functions.filter((f) => f.name !== '(idle)');
  const diffs = syFns
    .map((f) => ({ label: key(f), raw: perCall('raw', rawFns.get(key(f)) ?? 0), switchyard: perCall('switchyard', f.selfUs) }))
    .sort((a, b) => b.switchyard - b.raw - (a.switchyard - a.raw))
    .slice(0, 25);
  for (const d of diffs) console.log(`${d.raw.toFixed(2).padStart(8)} ${d.switchyard.toFixed(2).padStart(8)} ${(d.switchyard - d.raw).toFixed(2).padStart(8)}  ${d.label}`);
  const busy = (kind: ClientKind): number =>
    perCall(kind, summaries.get(kind)!.functions.filter((f) => f.name !== '(idle)').reduce((s, f) => s + f.selfUs, 0));
  console.log(`\nbusy main-thread µs per call: raw ${busy('raw').toFixed(1)}, switchyard ${busy('switchyard').toFixed(1)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
