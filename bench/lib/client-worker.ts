/**
 * The benchmark client: a child process holding grpc-js / switchyard clients and driving load on them,
 * so that `process.cpuUsage()` counts only the client's work. Started by `startClientWorker`; every
 * operation is a request from the parent over IPC (see `rpc-server.ts`).
 */
import { createBenchClient, type BenchClient, type ClientSpec } from './clients';
import { runUnaryJob, type UnaryJob } from './unary-load';
import { runBidiJob, type BidiJob } from './bidi-load';
import { probeMemory, type MemoryJob } from './memory-probe';
import { emitEvent, serveRpc } from './rpc-server';

const sessions = new Map<string, BenchClient>();

function session(name: string): BenchClient {
  const s = sessions.get(name);
  if (s === undefined) throw new Error(`no session ${name}`);
  return s;
}

serveRpc({
  open(params: { session: string; spec: ClientSpec }) {
    sessions.get(params.session)?.close();
    sessions.set(params.session, createBenchClient(params.spec));
  },
  unary(params: { session: string; job: UnaryJob }) {
    return runUnaryJob(session(params.session).client, params.job, (done) => emitEvent({ session: params.session, done }));
  },
  bidi(params: { session: string; job: BidiJob }) {
    return runBidiJob(session(params.session).client, params.job);
  },
  stats(params: { session: string }) {
    return session(params.session).stats();
  },
  close(params: { session: string }) {
    sessions.get(params.session)?.close();
    sessions.delete(params.session);
  },
  memory(params: MemoryJob) {
    return probeMemory(params);
  },
});
