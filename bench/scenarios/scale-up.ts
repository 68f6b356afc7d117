import { performance } from 'node:perf_hooks';
import type { BackendProcess } from '../../examples/backend/backend-process';
import { startDnsServer, dnsServerAvailable, DNSMASQ_MISSING_MESSAGE } from '../../test/helpers/dns-server';
import { closeBackends, startBackends } from '../lib/backends';
import type { ClientKind } from '../lib/clients';
import { startClientProcess, type ClientProcess } from '../lib/client-process';
import { serviceConfig } from '../lib/service-configs';
import { figure } from '../lib/stats';
import type { UnaryResult } from '../lib/unary-load';
import { fig } from '../report/format';
import type { Scenario, ScenarioContext, ScenarioResult, TargetCheck } from './types';

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly kind: ClientKind;
}

const VARIANTS: readonly Variant[] = [
  { id: 'grpc-js', label: 'grpc-js DNS resolver + round_robin', kind: 'grpc-js' },
  { id: 'switchyard', label: 'switchyard DNS (refresh 5 s) + round_robin', kind: 'switchyard' },
];

const NAME = 'svc.test';
const RATE = 200;
const BEFORE_MS = 1_000;
const BUCKET_MS = 500;
const REFRESH_MS = 5_000;
/** "Carries its share": at least this fraction of an even 1/3 split, in one bucket. */
const SHARE_THRESHOLD = 0.8 / 3;

interface RunResult {
  /** Seconds from the DNS change to the end of the first bucket where the new backend had its share; NaN if never. */
  seconds: number;
  series: Array<{ t: number; share: number }>;
}

function analyse(result: UnaryResult, addAt: number, newBackend: string): RunResult {
  const d = result.detail!;
  const newIndex = result.backends.indexOf(newBackend);
  const buckets = new Map<number, { ok: number; fresh: number }>();
  for (let i = 0; i < d.startMs.length; i++) {
    if (d.code[i] !== 0) continue;
    const t = Math.floor((d.startMs[i]! - addAt) / BUCKET_MS) * BUCKET_MS;
    const b = buckets.get(t) ?? { ok: 0, fresh: 0 };
    b.ok++;
    if (d.backend[i] === newIndex) b.fresh++;
    buckets.set(t, b);
  }
  const series = [...buckets]
    .sort((a, b) => a[0] - b[0])
    .filter(([, b]) => b.ok >= 10)
    .map(([t, b]) => ({ t, share: b.fresh / b.ok }));
  const first = series.find((p) => p.t >= 0 && p.share >= SHARE_THRESHOLD);
  return { seconds: first === undefined ? Number.NaN : (first.t + BUCKET_MS) / 1000, series };
}

/** Starts the three backends on 127.0.0.1, .2 and .3, all on the same port (DNS gives addresses, not ports). */
async function startTrio(): Promise<BackendProcess[]> {
  for (let attempt = 0; ; attempt++) {
    const [first] = await startBackends([{ id: 'n1', host: '127.0.0.1' }]);
    try {
      const rest = await startBackends([
        { id: 'n2', host: '127.0.0.2', port: first!.port },
        { id: 'n3', host: '127.0.0.3', port: first!.port },
      ]);
      return [first!, ...rest];
    } catch (error) {
      await closeBackends([first!]);
      if (attempt >= 3) throw error;
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const { mode, progress } = context;
  if (!dnsServerAvailable()) throw new Error(DNSMASQ_MISSING_MESSAGE);
  const backends = await startTrio();
  const dns = await startDnsServer({ records: { [NAME]: ['127.0.0.1', '127.0.0.2'] } });
  const workers: ClientProcess[] = [];
  try {
    // grpc-js sends queries to the DNS server named in the target only with this variable set; without
    // it, it asks the system resolver, which does not know the test zone.
    const env = { GRPC_NODE_USE_ALTERNATIVE_RESOLVER: 'true' };
    workers.push(...(await Promise.all(VARIANTS.map(() => startClientProcess({ cpuProfileDir: context.cpuProfileDir, env })))));
    const target = `dns://${dns.address}/${NAME}:${backends[0]!.port}`;
    const results = new Map<string, RunResult[]>();
    for (let r = 0; r < mode.scaleUpRuns; r++) {
      dns.setRecords(NAME, ['127.0.0.1', '127.0.0.2']);
      await dns.reload();
      // Both clients see the same DNS change at the same moment; replies say which backend answered.
      for (const [i, v] of VARIANTS.entries()) {
        await workers[i]!.open('s', {
          kind: v.kind,
          target,
          serviceConfig: serviceConfig({ policy: 'round_robin' }),
          switchyard: { dnsRefreshIntervalMs: REFRESH_MS, minResolutionIntervalMs: REFRESH_MS },
        });
        const warm = await workers[i]!.unary('s', { concurrency: 8, calls: 100, deadlineMs: 5_000 });
        if (warm.failed > 0) throw new Error(`${v.label}: ${warm.failed} of 100 warm-up calls failed: ${JSON.stringify(warm.codes)}`);
      }
      const jobs = workers.map((w) => w.unary('s', { concurrency: 64, ratePerSec: RATE, durationMs: BEFORE_MS + mode.scaleUpWaitMs, deadlineMs: 5_000, detail: true }));
      await sleep(BEFORE_MS);
      dns.setRecords(NAME, ['127.0.0.1', '127.0.0.2', '127.0.0.3']);
      const addAt = performance.timeOrigin + performance.now();
      await dns.reload();
      progress.step(`run ${r + 1}/${mode.scaleUpRuns}: 127.0.0.3 added to ${NAME}; watching for ${mode.scaleUpWaitMs / 1000} s`);
      const done = await Promise.all(jobs);
      for (const [i, v] of VARIANTS.entries()) {
        const out = analyse(done[i]!, addAt, 'n3');
        results.set(v.id, [...(results.get(v.id) ?? []), out]);
        progress.step(`${v.label}: ${Number.isNaN(out.seconds) ? `no share within ${mode.scaleUpWaitMs / 1000} s` : `share after ${out.seconds} s`}`);
        await workers[i]!.closeSession('s');
      }
    }
    return report(results, context);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await dns.stop();
    await closeBackends(backends);
  }
}

function report(results: Map<string, RunResult[]>, context: ScenarioContext): ScenarioResult {
  const waitS = context.mode.scaleUpWaitMs / 1000;
  const describe = (id: string): string => {
    const runs = results.get(id)!;
    const found = runs.filter((r) => !Number.isNaN(r.seconds)).map((r) => r.seconds);
    const missing = runs.length - found.length;
    const head = found.length > 0 ? `${fig(figure(found, 's'), 1)} s` : `not within ${waitS} s`;
    return missing > 0 && found.length > 0 ? `${head}; ${missing} run(s) not within ${waitS} s` : head;
  };
  const sy = results.get('switchyard')!;
  const targets: TargetCheck[] = [
    {
      scenario: 'scale-up',
      target: `switchyard picks up a new DNS address within one refresh interval (${REFRESH_MS / 1000} s) plus a connect`,
      measured: describe('switchyard'),
      met: sy.every((r) => r.seconds <= REFRESH_MS / 1000 + 1.5),
    },
  ];
  const chartValues = VARIANTS.flatMap((v) =>
    results.get(v.id)!.flatMap((run, r) => run.series.map((p) => ({ variant: v.label, run: r + 1, t: p.t / 1000, share: p.share }))),
  );
  return {
    id: 'scale-up',
    title: 'Scale-up',
    setup:
      `Two backends (127.0.0.1, 127.0.0.2) behind the name ${NAME} served by a local dnsmasq (TTL 0); after ${BEFORE_MS / 1000} s ` +
      `127.0.0.3 is added. Each client sends ${RATE} calls/s (round_robin). "Carries its share" = the new backend answered at least ` +
      `80 % of an even third of the calls in a ${BUCKET_MS} ms bucket. switchyard: dnsRefreshIntervalMs ${REFRESH_MS}; grpc-js: its own DNS resolver ` +
      `with default options (and GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true, which it needs to query the DNS server named in the target). ${context.mode.scaleUpRuns} run(s), watched for ${waitS} s.`,
    tables: [
      {
        caption: 'Seconds from the DNS change until the new backend carries its share (median [min–max] over runs)',
        columns: ['variant', 'time to share'],
        rows: VARIANTS.map((v) => [v.label, describe(v.id)]),
      },
    ],
    charts: [
      {
        name: 'scale-up',
        title: 'Share of calls answered by the new backend',
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
          title: 'Share of calls answered by the added backend (DNS change at t = 0)',
          width: 520,
          height: 240,
          data: { values: chartValues },
          layer: [
            {
              mark: { type: 'line', point: true, interpolate: 'step-after' },
              encoding: {
                x: { field: 't', type: 'quantitative', title: 's since the DNS change' },
                y: { field: 'share', type: 'quantitative', title: 'share of OK calls', scale: { domain: [0, 0.5] } },
                color: { field: 'variant', type: 'nominal', legend: { orient: 'bottom' } },
                detail: { field: 'run', type: 'nominal' },
              },
            },
            { mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { datum: 1 / 3 } } },
          ],
        },
      },
    ],
    targets,
    notes: [
      "grpc-js's DNS resolver re-resolves only when a connection drops or the channel leaves idle (it has no periodic refresh), " +
        'so with healthy connections it does not see an added address; servers setting grpc.max_connection_age are the usual workaround.',
    ],
    data: Object.fromEntries([...results].map(([id, runs]) => [id, runs])),
  };
}

/** Scenario 6: a third backend added to DNS; seconds until it carries its share. */
export const scaleUpScenario: Scenario = { id: 'scale-up', title: 'Scale-up', run };
