import * as path from 'node:path';
import type { ChannelStats } from '../../src/index';
import type { BidiJob, BidiResult } from './bidi-load';
import type { ClientSpec } from './clients';
import type { MemoryJob, MemoryResult } from './memory-probe';
import { forkRpcChild, type RpcChild } from './rpc-child';
import type { UnaryJob, UnaryResult } from './unary-load';

const WORKER_SCRIPT = path.resolve(__dirname, 'client-worker.ts');

/** A benchmark client child process (`client-worker.ts`): named client sessions and the jobs run on them. */
export interface ClientProcess {
  readonly pid: number;
  /** Creates (or replaces) client session `session`. @throws Error (rejects) on a bad spec. */
  open(session: string, spec: ClientSpec): Promise<void>;
  /** Runs a unary job on a session. */
  unary(session: string, job: UnaryJob): Promise<UnaryResult>;
  /** Runs a bidi streaming job on a session. */
  bidi(session: string, job: BidiJob): Promise<BidiResult>;
  /** The session's switchyard counters, undefined for grpc-js clients. */
  stats(session: string): Promise<ChannelStats | undefined>;
  /** Closes a session's client. */
  closeSession(session: string): Promise<void>;
  /** Measures one client's memory; use a fresh process for each. */
  memory(job: MemoryJob): Promise<MemoryResult>;
  /** Ends the process (see `RpcChild.close`). Never rejects. */
  close(): Promise<void>;
}

/** Options of {@link startClientProcess}. */
export interface ClientProcessOptions {
  /** Write a V8 CPU profile (`--cpu-prof`) into this directory when the process ends. */
  readonly cpuProfileDir?: string;
  /**
   * Sub-folder of `cpuProfileDir` for this process's profiles. Node writes one file per thread
   * (`CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile`; thread 0 is the main thread, the others are
   * tsx's module loader), so a fixed file name would let the threads overwrite each other.
   */
  readonly cpuProfileSubdir?: string;
  /** Extra environment variables, e.g. `GRPC_NODE_USE_ALTERNATIVE_RESOLVER`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Receives progress events `{ session, done }` of jobs with `progressMs`. */
  readonly onProgress?: (event: { session: string; done: number }) => void;
}

/**
 * Forks a benchmark client process (with `--expose-gc`, for memory probes).
 * @throws Error (rejects) when it does not start.
 */
export async function startClientProcess(options: ClientProcessOptions = {}): Promise<ClientProcess> {
  const flags = ['--expose-gc'];
  if (options.cpuProfileDir !== undefined) {
    const dir = options.cpuProfileSubdir === undefined ? options.cpuProfileDir : path.join(options.cpuProfileDir, options.cpuProfileSubdir);
    flags.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const child: RpcChild = await forkRpcChild(WORKER_SCRIPT, [], {
    nodeFlags: flags,
    env: options.env,
    onEvent: (event) => options.onProgress?.(event as { session: string; done: number }),
  });
  return {
    pid: child.pid,
    open: (session, spec) => child.call('open', { session, spec }),
    unary: (session, job) => child.call('unary', { session, job }),
    bidi: (session, job) => child.call('bidi', { session, job }),
    stats: async (session) => (await child.call<ChannelStats | null>('stats', { session })) ?? undefined,
    closeSession: (session) => child.call('close', { session }),
    memory: (job) => child.call('memory', job),
    close: () => child.close(),
  };
}
