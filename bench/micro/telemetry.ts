/**
 * Micro-benchmark: the per-call cost of telemetry. Unary calls at concurrency 64 through three
 * switchyard channels to one in-process echo server on loopback, the channels differing only in what
 * they record: nothing (`off`: no OpenTelemetry provider, no debug log; the call engine reads one
 * `undefined` field per call), gRFC A66/A96 metrics into an SDK `MeterProvider` (`metrics`), and
 * metrics plus A72 spans into an SDK tracer provider (`metrics+traces`). Runs are interleaved in
 * rotating order; figures are medians over runs, with the ratio to `off` in the same run.
 *
 *   npx tsx bench/micro/telemetry.ts [--run-ms 1000] [--runs 5] [--json]
 *
 * Client and server share the process, so absolute calls/s are lower than the overhead scenario's;
 * only the ratios between the channels matter here.
 */
import { cpuUsage } from 'node:process';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createChannel, type SwitchyardChannel, type SwitchyardChannelOptions } from '../../src/index';
import { makeEchoClient, type EchoClient } from '../../test/helpers/echo-client';
import { startEchoServer } from '../../test/helpers/echo-server';

class NullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const { values } = parseArgs({
  options: {
    'run-ms': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const RUN_MS = Number(values['run-ms']);
const RUNS = Number(values.runs);
const CONCURRENCY = 64;

interface Variant {
  readonly name: string;
  readonly channel: SwitchyardChannel;
  readonly client: EchoClient;
}

function open(name: string, target: string, options: SwitchyardChannelOptions): Variant {
  const credentials = grpc.credentials.createInsecure();
  const channel = createChannel(target, credentials, options);
  return { name, channel, client: makeEchoClient(target, credentials, { channelOverride: channel }) };
}

/** Closed-loop unary load for `ms`: calls per second and client+server CPU µs per call. */
function load(client: EchoClient, ms: number): Promise<{ rate: number; cpuUs: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const cpu = cpuUsage();
    let calls = 0;
    let active = 0;
    const metadata = new grpc.Metadata();
    const next = (): void => {
      if (performance.now() - start >= ms) {
        if (--active === 0) {
          const used = cpuUsage(cpu);
          resolve({ rate: (calls / (performance.now() - start)) * 1000, cpuUs: (used.user + used.system) / calls });
        }
        return;
      }
      client.Unary({ message: 'telemetry-benchmark' }, metadata, {}, (error) => {
        if (error) return reject(error);
        calls++;
        next();
      });
    };
    for (; active < CONCURRENCY; active++) next();
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const server = await startEchoServer({ id: 'bench' });
  const target = `ipv4:${server.address}`;
  const meterProvider = new MeterProvider({ readers: [new NullReader()] });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] });
  const variants = [
    open('off', target, { meterProvider: false, tracerProvider: false }),
    open('metrics', target, { meterProvider, tracerProvider: false }),
    open('metrics+traces', target, { meterProvider, tracerProvider }),
  ];
  try {
    for (const v of variants) await load(v.client, Math.min(RUN_MS, 500)); // warm-up
    const rates = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    const ratios = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    for (let r = 0; r < RUNS; r++) {
      const runRates = new Map<string, number>();
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + r) % variants.length]!;
        const m = await load(v.client, RUN_MS);
        rates.get(v.name)!.push(m.rate);
        cpu.get(v.name)!.push(m.cpuUs);
        runRates.set(v.name, m.rate);
      }
      for (const v of variants) ratios.get(v.name)!.push(runRates.get(v.name)! / runRates.get('off')!);
    }
    const rows = variants.map((v) => ({
      variant: v.name,
      callsPerSecond: median(rates.get(v.name)!),
      cpuUsPerCall: median(cpu.get(v.name)!),
      ratioToOff: median(ratios.get(v.name)!),
    }));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ runMs: RUN_MS, runs: RUNS, concurrency: CONCURRENCY, rows })}\n`);
    } else {
      process.stdout.write(`telemetry cost, unary, concurrency ${CONCURRENCY}, ${RUNS} runs of ${RUN_MS} ms (medians)\n`);
      for (const row of rows) {
        process.stdout.write(
          `  ${row.variant.padEnd(15)} ${row.callsPerSecond.toFixed(0).padStart(7)} calls/s  ${row.cpuUsPerCall.toFixed(1).padStart(6)} µs CPU/call  ${row.ratioToOff.toFixed(3)}× off\n`,
        );
      }
    }
  } finally {
    for (const v of variants) {
      v.client.close();
      v.channel.close();
    }
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    await server.stop();
  }
}

void main();
