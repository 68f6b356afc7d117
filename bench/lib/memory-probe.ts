import * as grpc from '@grpc/grpc-js';
import type { ClientUnaryCall } from '@grpc/grpc-js';
import { createBenchClient, type ClientSpec } from './clients';
import { runUnaryJob } from './unary-load';

/** A memory measurement job for a fresh client child (started with `--expose-gc`). */
export interface MemoryJob {
  readonly spec: ClientSpec;
  /** Calls made before measuring; with round_robin, twice the endpoint count connects every endpoint. */
  readonly warmCalls: number;
  /** Calls then held in flight (requests that never get an answer) to measure the cost per call. */
  readonly inflight: number;
}

/** Memory of one channel, as deltas over the process before the client was created. Bytes. */
export interface MemoryResult {
  /** `heapUsed` growth with the channel connected (after a full GC). */
  readonly heapBytes: number;
  /** RSS growth with the channel connected. */
  readonly rssBytes: number;
  /** Extra `heapUsed` per in-flight call. */
  readonly heapPerCallBytes: number;
  /** Extra RSS per in-flight call. */
  readonly rssPerCallBytes: number;
  /** Warm-up calls that failed (non-zero means some endpoint was not connected). */
  readonly warmFailures: number;
  /** Distinct backends that answered during warm-up. */
  readonly backendsSeen: number;
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('memory probes need --expose-gc');
  // Twice: the first pass may only queue finalizers that free more on the second.
  gc();
  gc();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Measures heap and RSS of one client connected to every endpoint of its target, then per in-flight call.
 * Meant for a child process that runs nothing else, so the deltas are the channel's.
 */
export async function probeMemory(job: MemoryJob): Promise<MemoryResult> {
  fullGc();
  await sleep(50);
  fullGc();
  const base = process.memoryUsage();
  const client = createBenchClient(job.spec);
  try {
    const warm = await runUnaryJob(client.client, { concurrency: 32, calls: job.warmCalls, deadlineMs: 20_000 });
    await sleep(200);
    fullGc();
    const connected = process.memoryUsage();
    const calls: ClientUnaryCall[] = [];
    for (let i = 0; i < job.inflight; i++) {
      calls.push(client.client.Unary({ hang: true }, new grpc.Metadata(), { deadline: Date.now() + 120_000 }, () => {}));
    }
    // Let every call reach its connection (headers written, streams open) before measuring.
    await sleep(Math.min(3_000, 300 + job.inflight));
    fullGc();
    const loaded = process.memoryUsage();
    for (const call of calls) call.cancel();
    await sleep(100);
    return {
      heapBytes: connected.heapUsed - base.heapUsed,
      rssBytes: connected.rss - base.rss,
      heapPerCallBytes: job.inflight === 0 ? 0 : (loaded.heapUsed - connected.heapUsed) / job.inflight,
      rssPerCallBytes: job.inflight === 0 ? 0 : (loaded.rss - connected.rss) / job.inflight,
      warmFailures: warm.failed,
      backendsSeen: Object.keys(warm.byBackend).length,
    };
  } finally {
    client.close();
  }
}
