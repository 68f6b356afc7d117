/**
 * Micro-benchmark: what AsyncLocalStorage costs per `await`, and what the per-call context operations
 * cost, on the running Node version (the target is Node 20, where ALS propagates through promise hooks).
 *
 *   npx tsx bench/micro/als-cost.ts [--time-ms 500] [--json]
 *
 * With `--json` it prints one JSON line `{ rows: [{ phase, operation, nsPerOp, rme, samples }] }` instead
 * of the table (the benchmark runner's `als` scenario runs it that way, once per run, in a fresh process).
 *
 * Three phases, in this order because ALS installs its promise hook the first time a store is entered
 * and never removes it for the process: (1) no store ever entered — the cost every Node app pays;
 * (2) after a store was entered, code outside any store; (3) code inside a context created by
 * `runWithDeadline`. Prints a table of ns per operation. Numbers vary with the machine; compare rows.
 */
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { currentCallContext, runWithDeadline } from '../../src/deadline/context';

/** Awaits per task run, so the per-run overhead of the harness is spread thin. */
const AWAITS = 1000;
/** Context operations per task run. */
const OPS = 10_000;

async function awaitChain(): Promise<number> {
  let n = 0;
  for (let i = 0; i < AWAITS; i++) n += await Promise.resolve(i);
  return n;
}

function noop(): void {}

function getStoreLoop(): number {
  let found = 0;
  for (let i = 0; i < OPS; i++) if (currentCallContext() !== undefined) found++;
  return found;
}

function listenerLoop(): void {
  const ctx = currentCallContext()!;
  for (let i = 0; i < OPS; i++) {
    ctx.addCancelListener(noop);
    ctx.removeCancelListener(noop);
  }
}

interface Row {
  phase: string;
  operation: string;
  'ns/op': string;
  '±%': string;
  samples: number;
}

/** tinybench time per task, in ms (`--time-ms`). */
let timeMs = 500;

async function measure(phase: string, tasks: Array<[string, number, () => unknown]>): Promise<Row[]> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs) });
  for (const [name, , fn] of tasks) bench.add(name, fn as () => Promise<void>);
  await bench.warmup();
  await bench.run();
  return bench.tasks.map((task, i) => {
    const r = task.result!;
    return {
      phase,
      operation: task.name,
      'ns/op': ((r.mean * 1e6) / tasks[i]![1]).toFixed(1),
      '±%': r.rme.toFixed(1),
      samples: r.samples.length,
    };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'time-ms': { type: 'string', default: '500' }, json: { type: 'boolean', default: false } } });
  timeMs = Number(values['time-ms']);
  const rows: Row[] = [];
  rows.push(
    ...(await measure('1. ALS never entered', [
      ['await (resolved promise)', AWAITS, awaitChain],
      ['currentCallContext() → undefined', OPS, getStoreLoop],
    ])),
  );
  runWithDeadline(Infinity, noop); // enables the ALS promise hook for the rest of the process
  rows.push(
    ...(await measure('2. ALS enabled, outside', [
      ['await (resolved promise)', AWAITS, awaitChain],
      ['currentCallContext() → undefined', OPS, getStoreLoop],
    ])),
  );
  const deadline = Date.now() + 3_600_000;
  rows.push(
    ...(await measure('3. inside a context', [
      ['await (resolved promise)', AWAITS, () => runWithDeadline(deadline, awaitChain)],
      ['currentCallContext() → ctx', OPS, () => runWithDeadline(deadline, getStoreLoop)],
      ['addCancelListener + removeCancelListener', OPS, () => runWithDeadline(deadline, listenerLoop)],
      ['runWithDeadline(d, noop) (enter + exit)', 1, () => runWithDeadline(deadline, noop)],
    ])),
  );
  if (values.json) {
    const json = rows.map((r) => ({ phase: r.phase, operation: r.operation, nsPerOp: Number(r['ns/op']), rme: Number(r['±%']), samples: r.samples }));
    process.stdout.write(`${JSON.stringify({ rows: json })}\n`);
    return;
  }
  console.log(`Node ${process.version} on ${process.platform}/${process.arch}`);
  console.table(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
