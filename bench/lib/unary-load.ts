import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { EchoClient, EchoReply, EchoRequest } from '../../examples/backend/echo-proto';
import { summarizeLatencies, type LatencySummary } from './stats';

/** A unary load job, run by a client child on one client. Plain JSON. */
export interface UnaryJob {
  /** Calls kept in flight at most. */
  readonly concurrency: number;
  /** Stop starting calls after this long, in ms. One of `durationMs` / `calls` is required. */
  readonly durationMs?: number;
  /** Stop after this many calls. */
  readonly calls?: number;
  /**
   * Open loop: start calls at this fixed rate (calls/s) instead of back to back, still capped by
   * `concurrency`. Undefined = closed loop (each lane starts its next call when the previous ends).
   */
  readonly ratePerSec?: number;
  /** Per-call timeout in ms (deadline = start + this). Undefined = no deadline. */
  readonly deadlineMs?: number;
  /** The request every call sends. Default a 16-byte message. */
  readonly request?: EchoRequest;
  /** Return every call's start time, latency, status and backend (for time series). Default false. */
  readonly detail?: boolean;
  /** Return every call's latency (ms) for distributions. Default false. */
  readonly latencies?: boolean;
  /** Emit a progress event this often, in ms (0 = never). */
  readonly progressMs?: number;
}

/** Per-call records of a {@link UnaryJob} with `detail`. Index i is the i-th call started. */
export interface CallDetail {
  /** Start, ms since the epoch (`performance.timeOrigin + performance.now()`, comparable across processes). */
  readonly startMs: number[];
  readonly latencyMs: number[];
  /** grpc status code. */
  readonly code: number[];
  /** Index into {@link UnaryResult.backends} of the backend that answered, -1 for a failed call. */
  readonly backend: number[];
}

/** What a {@link UnaryJob} measured. */
export interface UnaryResult {
  readonly calls: number;
  readonly ok: number;
  readonly failed: number;
  /** From the first call's start to the last call's end, in ms. */
  readonly elapsedMs: number;
  /** Client process CPU time over the job (user + system), in µs (`process.cpuUsage`). */
  readonly cpuUs: number;
  /** Calls per status code. */
  readonly codes: Record<string, number>;
  /** OK calls per backend id (`EchoReply.backend`). */
  readonly byBackend: Record<string, number>;
  /** Latencies of every call (OK or not), in ms. */
  readonly latency: LatencySummary;
  /** Backend ids in first-seen order (for {@link CallDetail.backend}). */
  readonly backends: string[];
  readonly detail?: CallDetail;
  readonly latencies?: number[];
}

const DEFAULT_REQUEST: EchoRequest = { message: 'switchyard-bench!' };

/**
 * Drives unary `Echo/Unary` calls on `client` as `job` says and measures them. Never rejects: failed
 * calls are counted, not thrown.
 * @param onProgress called every `job.progressMs` with the calls finished so far.
 */
export function runUnaryJob(client: EchoClient, job: UnaryJob, onProgress?: (done: number) => void): Promise<UnaryResult> {
  if (job.durationMs === undefined && job.calls === undefined) throw new Error('a unary job needs durationMs or calls');
  const request = job.request ?? DEFAULT_REQUEST;
  const maxCalls = job.calls ?? Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  const detail: CallDetail | undefined = job.detail ? { startMs: [], latencyMs: [], code: [], backend: [] } : undefined;
  const codes: Record<string, number> = {};
  const byBackend: Record<string, number> = {};
  const backends: string[] = [];
  const backendIndex = new Map<string, number>();
  let started = 0;
  let finished = 0;
  let ok = 0;
  let inFlight = 0;
  let lastEnd = 0;

  return new Promise<UnaryResult>((resolve) => {
    const t0 = performance.now();
    const endAt = job.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + job.durationMs;
    const cpu0 = process.cpuUsage();
    let pacer: NodeJS.Timeout | undefined;
    const progress = job.progressMs && onProgress ? setInterval(() => onProgress(finished), job.progressMs) : undefined;

    const canStart = (now: number): boolean => started < maxCalls && now < endAt;

    const finish = (): void => {
      if (pacer !== undefined) clearInterval(pacer);
      if (progress !== undefined) clearInterval(progress);
      const cpu = process.cpuUsage(cpu0);
      resolve({
        calls: finished,
        ok,
        failed: finished - ok,
        elapsedMs: lastEnd - t0,
        cpuUs: cpu.user + cpu.system,
        codes,
        byBackend,
        latency: summarizeLatencies(latencies),
        backends,
        detail,
        latencies: job.latencies ? latencies : undefined,
      });
    };

    const startCall = (): void => {
      started++;
      inFlight++;
      const index = detail === undefined ? -1 : detail.startMs.length;
      const start = performance.now();
      if (detail !== undefined) {
        detail.startMs.push(performance.timeOrigin + start);
        detail.latencyMs.push(Number.NaN);
        detail.code.push(-1);
        detail.backend.push(-1);
      }
      const options: grpc.CallOptions = job.deadlineMs === undefined ? {} : { deadline: Date.now() + job.deadlineMs };
      client.Unary(request, new grpc.Metadata(), options, (error: grpc.ServiceError | null, reply?: EchoReply) => {
        const end = performance.now();
        lastEnd = end;
        const latency = end - start;
        latencies.push(latency);
        const code = error === null ? grpc.status.OK : error.code;
        codes[code] = (codes[code] ?? 0) + 1;
        let b = -1;
        if (error === null && reply !== undefined) {
          ok++;
          byBackend[reply.backend] = (byBackend[reply.backend] ?? 0) + 1;
          b = backendIndex.get(reply.backend) ?? -1;
          if (b < 0) {
            b = backends.length;
            backends.push(reply.backend);
            backendIndex.set(reply.backend, b);
          }
        }
        if (detail !== undefined) {
          detail.latencyMs[index] = latency;
          detail.code[index] = code;
          detail.backend[index] = b;
        }
        finished++;
        inFlight--;
        if (job.ratePerSec === undefined && canStart(end)) startCall();
        else if (inFlight === 0 && !canStart(end)) finish();
      });
    };

    if (job.ratePerSec === undefined) {
      const lanes = Math.min(job.concurrency, maxCalls);
      for (let i = 0; i < lanes; i++) startCall();
      return;
    }
    // Open loop: a 1 ms ticker starts every call that is due, so the schedule does not drift with latency.
    const intervalMs = 1000 / job.ratePerSec;
    pacer = setInterval(() => {
      const now = performance.now();
      const due = Math.floor((now - t0) / intervalMs) + 1;
      while (started < due && canStart(now) && inFlight < job.concurrency) startCall();
      if (!canStart(now)) {
        clearInterval(pacer);
        pacer = undefined;
        if (inFlight === 0) finish();
      }
    }, 1);
  });
}
