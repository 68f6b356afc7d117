/**
 * The parent side of `soak-backend.ts`: start a backend child on a fixed loopback address and port,
 * crash it (SIGKILL after an exact final ledger), stop it gracefully (SIGTERM → GOAWAY, final ledger),
 * and start it again on the same port. Every ledger reply is handed to `onLedger`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { SoakReply, SoakRequest } from './soak-backend';

const SCRIPT = path.resolve(__dirname, 'soak-backend.ts');
const LOADER = pathToFileURL(require.resolve('tsx')).href;
const READY_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 10_000;

/** Receives every ledger reply: backend index, flattened [id, attempt] pairs, handler calls since the last reply. */
export type LedgerSink = (index: number, entries: readonly number[], unaryCalls: number) => void;

/** One soak backend slot: a loopback address and port, served by at most one child at a time. */
export interface SoakBackend {
  readonly index: number;
  readonly host: string;
  /** Fixed after the first start (0 before: the first start picks one). */
  readonly port: number;
  readonly running: boolean;
  /** Start a child; rejects if it is not ready within 30 s. Retries while the port is still taken. */
  start(): Promise<void>;
  /** Ask the running child for its ledger (no-op without one). */
  drain(): Promise<void>;
  /** Exact final ledger, then SIGKILL: connections reset, no GOAWAY. */
  crash(): Promise<void>;
  /** SIGTERM: GOAWAY, running calls finish, final ledger, exit. */
  stopGracefully(): Promise<void>;
  /** Kill whatever runs (its unreported ledger is lost: use crash/stopGracefully first). */
  close(): Promise<void>;
}

/** Create backend slot `index` on `host` (port 0: pick one at the first start). */
export function soakBackend(index: number, host: string, port: number, onLedger: LedgerSink): SoakBackend {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let boundPort = port;
  let seq = 0;
  let lastCalls = 0;
  const waiting = new Map<number, () => void>();
  let finalReply: (() => void) | undefined;

  const onMessage = (reply: SoakReply): void => {
    onLedger(index, reply.entries, reply.unaryCalls - lastCalls);
    lastCalls = reply.unaryCalls;
    if (reply.seq === -1) finalReply?.();
    else waiting.get(reply.seq)?.();
    waiting.delete(reply.seq);
  };

  const request = (type: SoakRequest['type']): Promise<void> => {
    const current = child;
    if (current === undefined) return Promise.resolve();
    const id = ++seq;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`soak backend ${index}: no ${type} reply`)), REPLY_TIMEOUT_MS);
      waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      current.send({ type, seq: id } satisfies SoakRequest);
    });
  };

  const kill = async (): Promise<void> => {
    const current = child;
    if (current === undefined) return;
    current.kill('SIGKILL');
    await exited;
  };

  const launch = (): Promise<number> => {
    const proc = fork(SCRIPT, [`b${index}`, host, String(boundPort)], {
      execArgv: ['--import', LOADER],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2_000)));
    proc.on('message', (m) => onMessage(m as SoakReply));
    proc.on('error', () => {});
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`soak backend ${index} not ready`)), READY_TIMEOUT_MS);
      createInterface({ input: proc.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        child = proc;
        lastCalls = 0;
        exited = gone.then(() => {
          if (child === proc) child = undefined;
        });
        resolve((JSON.parse(line) as { port: number }).port);
      });
      void gone.then(() => {
        clearTimeout(timer);
        reject(new Error(`soak backend ${index} exited: ${stderr.trim()}`));
      });
    });
  };

  return {
    index,
    host,
    get port() {
      return boundPort;
    },
    get running() {
      return child !== undefined;
    },
    async start() {
      for (let attempt = 0; ; attempt++) {
        try {
          boundPort = await launch();
          return;
        } catch (error) {
          if (attempt >= 20 || !String(error).includes('EADDRINUSE')) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    drain: () => request('drain'),
    async crash() {
      if (child === undefined) return;
      await request('crash');
      await kill();
    },
    async stopGracefully() {
      const current = child;
      if (current === undefined) return;
      const final = new Promise<void>((resolve) => (finalReply = resolve));
      current.kill('SIGTERM');
      await Promise.race([final, exited]);
      await exited;
      finalReply = undefined;
    },
    close: kill,
  };
}
