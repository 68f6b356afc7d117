/**
 * Micro-benchmark: ns per pick of the built-in `pick_first` and `round_robin` pickers with 3, 100 and
 * 10 000 READY endpoints (fake subchannels: no I/O), plus the per-call method-config lookup
 * (`src/config/method-lookup.ts`) and a gRFC A6 throttle update (`src/retry/throttle.ts`).
 *
 *   npx tsx bench/micro/picks.ts [--time-ms 200] [--runs 3] [--json]
 *
 * Each task loops {@link OPS} operations so tinybench's per-iteration overhead is spread thin. Prints a
 * table, or with `--json` one JSON line: `{ rows: [{ group, name, endpoints?, nsPerOp: number[] }] }`,
 * one ns/op value per run (the mean of that run's samples).
 */
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { createFakeHelper, endpoints, parseAddress, pickArgs, type FakeSubchannel } from '../../test/helpers/fake-subchannel';
import { pickFirstPolicy } from '../../src/picker/pick-first';
import { roundRobinPolicy } from '../../src/picker/round-robin';
import type { LoadBalancingPolicyFactory, Picker } from '../../src/picker/types';
import { parseServiceConfig } from '../../src/config/service-config';
import { createMethodConfigLookup } from '../../src/config/method-lookup';
import { RetryThrottle } from '../../src/retry/throttle';

/** Operations per task invocation. */
const OPS = 1_000;

/** Endpoint counts the picks are measured at. */
export const PICK_ENDPOINTS = [3, 100, 10_000] as const;

/** One measured operation. */
export interface MicroRow {
  readonly group: string;
  readonly name: string;
  readonly endpoints?: number;
  /** ns per operation, one value per run. */
  readonly nsPerOp: number[];
}

/** A READY picker of `factory` over `count` fake READY subchannels, and a function releasing it. */
function readyPicker(factory: LoadBalancingPolicyFactory, count: number): { picker: Picker; close(): void } {
  const fake = createFakeHelper({ random: () => 0.5 });
  const list = Array.from({ length: count }, (_, i) => `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) + 1}:50051`);
  // The fake helper hands out one subchannel per address, so making them READY before the policy sees
  // them skips the connect phase: round_robin re-aggregates all children on every state change, which
  // makes connecting 10 000 one by one take tens of seconds (see docs/performance.md).
  for (const target of list) {
    const sc = fake.helper.createSubchannel(parseAddress(target)) as FakeSubchannel;
    sc.ready();
    fake.helper.releaseSubchannel(sc);
  }
  const policy = factory.create(fake.helper);
  policy.updateEndpoints(endpoints(...list), factory.parseConfig({}, 'bench'));
  const last = fake.last();
  if (last.state !== 2 /* READY */) throw new Error(`${factory.name} with ${count} endpoints is not READY`);
  return { picker: last.picker, close: () => policy.close() };
}

interface Task {
  readonly row: Omit<MicroRow, 'nsPerOp'>;
  readonly fn: () => unknown;
  readonly close?: () => void;
}

function tasks(): Task[] {
  const out: Task[] = [];
  const args = pickArgs();
  for (const factory of [pickFirstPolicy, roundRobinPolicy] as LoadBalancingPolicyFactory[]) {
    for (const n of PICK_ENDPOINTS) {
      const { picker, close } = readyPicker(factory, n);
      out.push({
        row: { group: 'pick', name: factory.name, endpoints: n },
        fn: () => {
          let complete = 0;
          for (let i = 0; i < OPS; i++) if (picker.pick(args).type === 'complete') complete++;
          if (complete !== OPS) throw new Error('a pick did not complete');
        },
        close,
      });
    }
  }
  const config = parseServiceConfig(
    {
      methodConfig: [
        { name: [{ service: 'switchyard.demo.Echo', method: 'Unary' }], timeout: '1s' },
        { name: [{ service: 'switchyard.demo.Echo' }], timeout: '2s' },
        { name: [{}], timeout: '3s' },
      ],
    },
    { maxAttemptsCap: 5 },
  );
  const lookup = createMethodConfigLookup(config);
  for (const [name, method] of [
    ['method-config lookup (exact name)', '/switchyard.demo.Echo/Unary'],
    ['method-config lookup (service default)', '/switchyard.demo.Echo/Bidi'],
    ['method-config lookup (global default)', '/other.Svc/Get'],
  ] as const) {
    out.push({
      row: { group: 'lookup', name },
      fn: () => {
        let found = 0;
        for (let i = 0; i < OPS; i++) if (lookup(method) !== undefined) found++;
        return found;
      },
    });
  }
  const throttle = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
  out.push({
    row: { group: 'throttle', name: 'throttle update (recordFailure + allows + recordSuccess)' },
    fn: () => {
      let allowed = 0;
      for (let i = 0; i < OPS; i++) {
        throttle.recordFailure();
        if (throttle.allows()) allowed++;
        throttle.recordSuccess();
      }
      return allowed;
    },
  });
  return out;
}

/** Runs every task `runs` times for `timeMs` each. */
export async function measurePicks(timeMs: number, runs: number): Promise<MicroRow[]> {
  const list = tasks();
  const rows: MicroRow[] = list.map((t) => ({ ...t.row, nsPerOp: [] }));
  for (let r = 0; r < runs; r++) {
    const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs) });
    list.forEach((t, i) => bench.add(String(i), t.fn));
    await bench.warmup();
    await bench.run();
    bench.tasks.forEach((task, i) => rows[i]!.nsPerOp.push((task.result!.mean * 1e6) / OPS));
  }
  for (const t of list) t.close?.();
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'time-ms': { type: 'string', default: '200' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } },
  });
  const rows = await measurePicks(Number(values['time-ms']), Number(values.runs));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rows })}\n`);
    return;
  }
  console.log(`Node ${process.version} on ${process.platform}/${process.arch}`);
  console.table(rows.map((r) => ({ ...r, nsPerOp: r.nsPerOp.map((v) => v.toFixed(1)).join(' ') })));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
