import { fork, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';

// An absolute URL, so the child finds tsx whatever its working directory.
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;

/** A message from a benchmark child to the parent (see `rpc-server.ts`). */
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string }
  | { type: 'event'; event: unknown };

/** A request from the parent to a benchmark child. */
export interface ChildRequest {
  readonly id: number;
  readonly op: string;
  readonly params: unknown;
}

/** Options of {@link forkRpcChild}. */
export interface ForkRpcOptions {
  /** Extra Node flags, e.g. `['--expose-gc']` or `['--cpu-prof', '--cpu-prof-dir', dir]`. */
  readonly nodeFlags?: readonly string[];
  /** How long to wait for the child's ready message, in ms. Default 60 000 (tsx start-up on a busy machine). */
  readonly readyTimeoutMs?: number;
  /** Extra environment variables for the child (on top of this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /** Receives the child's `event` messages (progress ticks). */
  readonly onEvent?: (event: unknown) => void;
}

/** A TypeScript child process answering requests over the `fork` IPC channel. */
export interface RpcChild {
  /** Pid of the child. */
  readonly pid: number;
  /**
   * Runs operation `op` in the child.
   * @param timeoutMs reject after this long, in ms. Default 300 000.
   * @throws Error (rejects) with the child's error message, on timeout, or when the child exits first.
   */
  call<T>(op: string, params?: unknown, timeoutMs?: number): Promise<T>;
  /**
   * Ends the child: disconnects IPC (the child exits by itself, writing any `--cpu-prof` profile) and
   * SIGKILLs it if it is still there after `graceMs` (default 5 000 ms). Idempotent; never rejects.
   */
  close(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Forks `script` (a `.ts` file run through tsx) with an IPC channel and resolves once it reports ready.
 * Every child is SIGKILLed when this process exits, so an interrupted benchmark leaves no orphans.
 * @throws Error (rejects) when the child exits or does not become ready within `readyTimeoutMs`.
 */
export function forkRpcChild(script: string, args: readonly string[] = [], options: ForkRpcOptions = {}): Promise<RpcChild> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const child = fork(script, [...args], {
    execArgv: ['--import', TSX_LOADER, ...(options.nodeFlags ?? [])],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
  });
  live.add(child);
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4_000);
  });
  child.on('error', () => {});
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      live.delete(child);
      for (const [id, p] of pending) {
        pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new Error(`${script} exited (${code ?? signal}) during a request: ${stderrTail.trim()}`));
      }
      resolve();
    });
  });

  return new Promise<RpcChild>((resolve, reject) => {
    const readyTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script}: not ready after ${options.readyTimeoutMs ?? 60_000} ms: ${stderrTail.trim()}`));
    }, options.readyTimeoutMs ?? 60_000);
    void exitedPromise.then(() => {
      clearTimeout(readyTimer);
      reject(new Error(`${script} exited before it was ready: ${stderrTail.trim()}`));
    });
    child.on('message', (raw) => {
      const message = raw as ChildMessage;
      if (message.type === 'ready') {
        clearTimeout(readyTimer);
        resolve(handle);
      } else if (message.type === 'event') {
        options.onEvent?.(message.event);
      } else {
        const p = pending.get(message.id);
        if (p === undefined) return;
        pending.delete(message.id);
        clearTimeout(p.timer);
        if (message.type === 'result') p.resolve(message.result);
        else p.reject(new Error(message.message));
      }
    });

    const handle: RpcChild = {
      pid: child.pid ?? -1,
      call<T>(op: string, params?: unknown, timeoutMs = 300_000): Promise<T> {
        if (exited) return Promise.reject(new Error(`${script} has exited`));
        const id = nextId++;
        return new Promise<T>((res, rej) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            rej(new Error(`${script}: ${op} did not answer within ${timeoutMs} ms`));
          }, timeoutMs);
          pending.set(id, { resolve: res as (value: unknown) => void, reject: rej, timer });
          child.send({ id, op, params } satisfies ChildRequest);
        });
      },
      async close(graceMs = 5_000) {
        if (exited) return;
        if (child.connected) child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exitedPromise;
        clearTimeout(timer);
      },
    };
  });
}
