import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { EchoClient, EchoReply, EchoRequest } from '../../examples/backend/echo-proto';

/** A bidi streaming job: one `Echo/Bidi` stream with `window` messages in flight, for `durationMs`. */
export interface BidiJob {
  /** Messages written but not yet answered, at most. */
  readonly window: number;
  /** How long to keep writing, in ms. */
  readonly durationMs: number;
}

/** What a {@link BidiJob} measured. */
export interface BidiResult {
  /** Replies received while writing. */
  readonly messages: number;
  /** From the first write to the last counted reply, in ms. */
  readonly elapsedMs: number;
  /** Client process CPU time over the job, in µs (`process.cpuUsage`). */
  readonly cpuUs: number;
  /** The stream's final status code. */
  readonly code: number;
}

const MESSAGE: EchoRequest = { message: 'switchyard-bench!' };

/**
 * Streams `MESSAGE` on one bidi call, keeping `job.window` messages unanswered, then half-closes and
 * waits for the stream's status. Rejects only if the stream fails before any reply.
 */
export function runBidiJob(client: EchoClient, job: BidiJob): Promise<BidiResult> {
  return new Promise<BidiResult>((resolve, reject) => {
    const call = client.Bidi(new grpc.Metadata(), {});
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let received = 0;
    let lastReply = t0;
    let writing = true;
    let cpuUs = 0;
    call.on('data', (_reply: EchoReply) => {
      if (!writing) return;
      received++;
      lastReply = performance.now();
      if (lastReply - t0 < job.durationMs) {
        call.write(MESSAGE);
      } else {
        writing = false;
        const cpu = process.cpuUsage(cpu0);
        cpuUs = cpu.user + cpu.system;
        call.end();
      }
    });
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => {
      if (received === 0 && status.code !== grpc.status.OK) return reject(new Error(`bidi stream failed: ${status.details}`));
      if (writing) {
        const cpu = process.cpuUsage(cpu0);
        cpuUs = cpu.user + cpu.system;
      }
      resolve({ messages: received, elapsedMs: lastReply - t0, cpuUs, code: status.code });
    });
    for (let i = 0; i < job.window; i++) call.write(MESSAGE);
  });
}
