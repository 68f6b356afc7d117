import * as grpc from '@grpc/grpc-js';
import type { EchoClient, EchoReply, EchoRequest } from '../backend/echo-proto';
import { DEMO_HASH_HEADER } from './channel';

/** Running counters of a load run; read them at any time (plain numbers, updated per call). */
export interface LoadCounters {
  /** Calls started. */
  started: number;
  /** Calls that returned OK. */
  ok: number;
  /** Calls that ended with a non-OK status. */
  failed: number;
  /** Finished calls per status code (index = `grpc.status` value; OK included). */
  byCode: number[];
  /** OK replies per `reply.backend` id. */
  okByBackend: Map<string, number>;
  /**
   * Latency histogram of OK calls: `okLatencyMs[i]` counts calls that took i ms (rounded down); the last
   * bucket also holds everything slower. Fixed size, so a long run costs no memory.
   */
  okLatencyMs: Uint32Array;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** The echo client to drive (on a switchyard channel or any other). */
  client: EchoClient;
  /** Run length in ms, counted from the call to {@link runLoad}. */
  durationMs: number;
  /** Calls kept in flight: each worker starts its next call when the previous one ends. */
  concurrency: number;
  /**
   * Client-side per-call timeout in ms (each call's deadline is its start time plus this); undefined
   * sets no deadline, leaving it to the service config's method `timeout`.
   */
  deadlineMs: number | undefined;
  /** Latencies up to this many ms are recorded exactly; slower ones land in the last bucket. */
  maxLatencyMs: number;
  /** The request every call sends. Default `{ message: 'demo' }`. */
  request?: EchoRequest;
  /** Stops the run early (no new calls start; running calls finish). */
  signal?: AbortSignal;
}

/** A load run in progress. */
export interface LoadRun {
  /** Live counters. */
  readonly counters: LoadCounters;
  /** When the run started (ms since the epoch). */
  readonly startedAt: number;
  /** Resolves once the run is over and every call has ended. Never rejects. */
  readonly done: Promise<LoadCounters>;
}

/** Largest status code, so `byCode` can be a dense array. */
const MAX_STATUS_CODE = grpc.status.UNAUTHENTICATED;

/** Creates zeroed counters with latency buckets up to `maxLatencyMs`. */
export function emptyCounters(maxLatencyMs: number): LoadCounters {
  return {
    started: 0,
    ok: 0,
    failed: 0,
    byCode: new Array<number>(MAX_STATUS_CODE + 1).fill(0),
    okByBackend: new Map(),
    okLatencyMs: new Uint32Array(Math.max(1, Math.ceil(maxLatencyMs)) + 1),
  };
}

/**
 * Drives unary `Echo/Unary` calls in a closed loop: `concurrency` workers, each starting its next call as
 * soon as the previous one ends, until `durationMs` has passed or `signal` aborts. Failed calls are
 * counted, never thrown.
 */
export function runLoad(options: LoadOptions): LoadRun {
  const { client, concurrency, deadlineMs, signal } = options;
  const request = options.request ?? { message: 'demo' };
  const counters = emptyCounters(options.maxLatencyMs);
  const lastBucket = counters.okLatencyMs.length - 1;
  const startedAt = Date.now();
  const endAt = startedAt + options.durationMs;
  let active = 0;
  let finish!: () => void;
  const done = new Promise<LoadCounters>((resolve) => {
    finish = () => resolve(counters);
  });

  const record = (error: grpc.ServiceError | null, reply: EchoReply | undefined, began: number): void => {
    if (error === null && reply !== undefined) {
      counters.ok++;
      counters.byCode[grpc.status.OK]! += 1;
      counters.okByBackend.set(reply.backend, (counters.okByBackend.get(reply.backend) ?? 0) + 1);
      counters.okLatencyMs[Math.max(0, Math.min(lastBucket, Date.now() - began))]! += 1;
    } else {
      counters.failed++;
      const code = error?.code ?? grpc.status.UNKNOWN;
      counters.byCode[code >= 0 && code <= MAX_STATUS_CODE ? code : grpc.status.UNKNOWN]! += 1;
    }
  };

  const next = (): void => {
    const now = Date.now();
    if (now >= endAt || signal?.aborted) {
      if (--active === 0) finish();
      return;
    }
    counters.started++;
    const callOptions = deadlineMs === undefined ? {} : { deadline: now + deadlineMs };
    const metadata = new grpc.Metadata();
    metadata.set(DEMO_HASH_HEADER, `user-${counters.started % 100}`);
    client.Unary(request, metadata, callOptions, (error, reply) => {
      record(error, reply, now);
      next();
    });
  };

  active = concurrency;
  for (let i = 0; i < concurrency; i++) next();
  return { counters, startedAt, done };
}

/**
 * The `q` quantile (0..1) of a {@link LoadCounters.okLatencyMs} histogram, in ms, or undefined when it is
 * empty. A value in the last bucket means "at least that much".
 */
export function latencyQuantile(histogram: Uint32Array, q: number): number | undefined {
  let total = 0;
  for (const n of histogram) total += n;
  if (total === 0) return undefined;
  const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
  let seen = 0;
  for (let ms = 0; ms < histogram.length; ms++) {
    seen += histogram[ms]!;
    if (seen >= rank) return ms;
  }
  return histogram.length - 1;
}
