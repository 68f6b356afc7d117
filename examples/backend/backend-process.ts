import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { hostPort } from './echo-server';
import type { EchoBehaviour, EchoStats } from './echo-service';
import type { BackendReply, BackendRequest } from './ipc';

/** Options of {@link startBackendProcess}. */
export interface BackendProcessOptions {
  /** Backend id, returned in every reply's `backend` field. */
  id: string;
  /** Port to listen on; 0 (default) picks a free port, which {@link BackendProcess.restart} then reuses. */
  port?: number;
  /** Loopback host to bind. Default `127.0.0.1`. */
  host?: string;
  /** Extra arguments for `examples/backend/server.ts`, e.g. `['--fail-rate', '0.1', '--fail-code', '14']`. */
  args?: readonly string[];
  /** How long to wait for a child to start, in ms. Default 30 000 (tsx start-up on a busy machine). */
  readyTimeoutMs?: number;
  /** Forward the child's stderr to ours instead of keeping its tail for error messages. Default false. */
  inheritStderr?: boolean;
}

/** A backend child process that can be crashed, frozen and restarted on the same port. */
export interface BackendProcess {
  /** The backend id. */
  readonly id: string;
  /** The port, fixed for the life of the handle (restarts reuse it). */
  readonly port: number;
  /** `host:port`, usable in a target. */
  readonly address: string;
  /** Pid of the serving child, or undefined when none runs. */
  readonly pid: number | undefined;
  /** True while a child serves (also while it is SIGSTOPped). */
  readonly running: boolean;
  /**
   * The serving child's counters (a restarted child starts from zero).
   * @throws Error (rejects) when no child runs, the child exits, or it does not answer within `timeoutMs`
   *   (default 5 000 ms; a SIGSTOPped child never answers).
   */
  stats(timeoutMs?: number): Promise<EchoStats>;
  /** Zeroes the serving child's counters. Rejects like {@link BackendProcess.stats}. */
  resetStats(timeoutMs?: number): Promise<void>;
  /** Replaces the serving child's server-wide behaviour. Rejects like {@link BackendProcess.stats}, or on a bad value. */
  setBehaviour(behaviour: EchoBehaviour, timeoutMs?: number): Promise<void>;
  /**
   * Sends `signal` (default SIGKILL) and resolves once the child has exited. SIGTERM makes the child shut
   * down gracefully (GOAWAY). A frozen child is continued first for any signal but SIGKILL. No-op without a child.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * A crash with an exact final count: reads the counters and stops the child from serving anything more
   * in the same step, then SIGKILLs it (connections reset, no GOAWAY). Resolves once it has exited, with
   * the counters, or undefined when there was no child or it did not answer within 1 s.
   */
  crash(): Promise<EchoStats | undefined>;
  /** Freezes the child with SIGSTOP: its sockets stay open but nothing is answered (a black hole). */
  stop(): void;
  /** Resumes a frozen child with SIGCONT. */
  cont(): void;
  /**
   * Starts, in the background, a replacement child that loads everything but binds nothing, so a later
   * {@link BackendProcess.restart} only has to bind. Idempotent; never rejects (restart falls back to a fresh start).
   */
  prepareRestart(): Promise<void>;
  /**
   * SIGKILLs the serving child if any, then serves again on the same port (from the prepared child when
   * there is one). @throws Error (rejects) when the new child does not start or the port stays taken.
   */
  restart(): Promise<void>;
  /** SIGKILLs every child of this handle. Idempotent. */
  close(): Promise<void>;
}

const SERVER_SCRIPT = path.resolve(__dirname, 'server.ts');
// An absolute URL, so the child finds tsx whatever its working directory.
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;
const STDERR_TAIL_CHARS = 4_000;
const BIND_RETRIES = 20;
const BIND_RETRY_DELAY_MS = 100;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every child still running when this process exits, so tests and the demo leave no orphans. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** One forked `server.ts`. */
interface Child {
  readonly process: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  stopped: boolean;
  /**
   * The next stdout line, parsed as JSON.
   * @throws Error (rejects) on timeout, a non-JSON line, or exit (with the tail of stderr).
   */
  nextLine(timeoutMs: number): Promise<Record<string, unknown>>;
}

function forkChild(
  options: BackendProcessOptions,
  port: number,
  standby: boolean,
  onMessage: (reply: BackendReply) => void,
): Child {
  const args = ['--id', options.id, '--port', String(port), '--host', options.host ?? '127.0.0.1', ...(options.args ?? [])];
  if (standby) args.push('--standby');
  const child = fork(SERVER_SCRIPT, args, {
    execArgv: ['--import', TSX_LOADER],
    stdio: ['ignore', 'pipe', options.inheritStderr ? 'inherit' : 'pipe', 'ipc'],
  });
  live.add(child);
  let hasExited = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      hasExited = true;
      live.delete(child);
      // Let the stdout/stderr pipes drain so a waiting nextLine() can say why.
      setImmediate(() => {
        for (const waiter of waiters.splice(0)) waiter(null);
        resolve();
      });
    });
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  child.on('message', (message) => onMessage(message as BackendReply));
  // Errors such as EPIPE after the child died are covered by exit handling.
  child.on('error', () => {});

  // Lines are queued so none is lost between two nextLine() calls; reading never stops, so a chatty
  // child cannot block on a full pipe.
  const lines: string[] = [];
  const waiters: ((line: string | null) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter !== undefined) waiter(line);
    else lines.push(line);
  });

  return {
    process: child,
    exited,
    stopped: false,
    nextLine(timeoutMs) {
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        const deliver = (line: string | null): void => {
          clearTimeout(timer);
          if (line === null) {
            const how = child.exitCode ?? child.signalCode;
            return reject(new Error(`backend ${options.id} exited (${how}): ${stderrTail.trim()}`));
          }
          try {
            resolve(JSON.parse(line) as Record<string, unknown>);
          } catch {
            reject(new Error(`backend ${options.id}: unexpected output ${JSON.stringify(line)}`));
          }
        };
        const timer = setTimeout(() => {
          const i = waiters.indexOf(deliver);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`backend ${options.id}: not ready after ${timeoutMs} ms`));
        }, timeoutMs);
        const queued = lines.shift();
        if (queued !== undefined) deliver(queued);
        else if (hasExited) deliver(null);
        else waiters.push(deliver);
      });
    },
  };
}

/** Waits for the ready line; returns the bound port. Kills the child when it does not come up. */
async function awaitReady(child: Child, timeoutMs: number): Promise<number> {
  try {
    const line = await child.nextLine(timeoutMs);
    if (line.ready !== true || typeof line.port !== 'number') throw new Error(`unexpected line ${JSON.stringify(line)}`);
    return line.port;
  } catch (error) {
    child.process.kill('SIGKILL');
    await child.exited;
    throw error;
  }
}

/**
 * Starts `examples/backend/server.ts` (the echo backend) as a child process on loopback and returns a
 * handle to crash it (SIGKILL), drain it (SIGTERM), freeze it (SIGSTOP) and restart it on the same port.
 * Every child is also SIGKILLed when this process exits, and exits by itself when this process dies.
 *
 * @throws Error (rejects) when the child does not become ready within `readyTimeoutMs` or exits first.
 */
export async function startBackendProcess(options: BackendProcessOptions): Promise<BackendProcess> {
  installExitHook();
  const host = options.host ?? '127.0.0.1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const pending = new Map<number, { resolve(reply: BackendReply): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  let seq = 0;
  let current: Child | undefined;
  let standby: Promise<Child | undefined> | undefined;
  let closed = false;

  const onMessage = (reply: BackendReply): void => {
    const p = pending.get(reply.seq);
    if (p === undefined) return;
    pending.delete(reply.seq);
    clearTimeout(p.timer);
    p.resolve(reply);
  };

  function serve(child: Child): void {
    current = child;
    void child.exited.then(() => {
      if (current === child) current = undefined;
      for (const [key, p] of pending) {
        pending.delete(key);
        clearTimeout(p.timer);
        p.reject(new Error(`backend ${options.id} exited`));
      }
    });
  }

  /** Takes the prepared child if it is loaded and alive, else undefined. */
  async function takeStandby(): Promise<Child | undefined> {
    const prepared = standby;
    standby = undefined;
    const child = await prepared;
    return child !== undefined && child.process.exitCode === null && child.process.signalCode === null ? child : undefined;
  }

  async function launch(port: number): Promise<number> {
    // A just-killed child's socket can take a moment to be released: retry the bind briefly.
    for (let attempt = 0; ; attempt++) {
      const prepared = attempt === 0 ? await takeStandby() : undefined;
      const child = prepared ?? forkChild(options, port, false, onMessage);
      if (prepared !== undefined) prepared.process.send({ type: 'listen', seq: 0 } satisfies BackendRequest);
      try {
        const boundPort = await awaitReady(child, readyTimeoutMs);
        serve(child);
        return boundPort;
      } catch (error) {
        if (closed || port === 0 || attempt >= BIND_RETRIES || !String(error).includes('EADDRINUSE')) throw error;
        await new Promise((resolve) => setTimeout(resolve, BIND_RETRY_DELAY_MS));
      }
    }
  }

  function request(body: BackendRequestBody, timeoutMs: number): Promise<BackendReply> {
    const child = current;
    if (child === undefined) return Promise.reject(new Error(`backend ${options.id} is not running`));
    const id = ++seq;
    return new Promise<BackendReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`backend ${options.id}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      child.process.send({ ...body, seq: id } as BackendRequest, (error) => {
        if (error === null) return;
        pending.delete(id);
        clearTimeout(timer);
        reject(error);
      });
    }).then((reply) => {
      if (reply.type === 'error') throw new Error(`backend ${options.id}: ${reply.message}`);
      return reply;
    });
  }

  async function kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = current;
    if (child === undefined) return;
    child.process.kill(signal);
    if (child.stopped && signal !== 'SIGKILL') child.process.kill('SIGCONT');
    await child.exited;
  }

  const port = await launch(options.port ?? 0);

  return {
    id: options.id,
    port,
    address: hostPort(host, port),
    get pid() {
      return current?.process.pid;
    },
    get running() {
      return current !== undefined;
    },
    async stats(timeoutMs = 5_000) {
      const reply = await request({ type: 'stats' }, timeoutMs);
      if (reply.type !== 'stats') throw new Error(`backend ${options.id}: unexpected reply ${reply.type}`);
      return reply.stats;
    },
    async resetStats(timeoutMs = 5_000) {
      await request({ type: 'reset-stats' }, timeoutMs);
    },
    async setBehaviour(behaviour, timeoutMs = 5_000) {
      await request({ type: 'behaviour', behaviour }, timeoutMs);
    },
    kill,
    async crash() {
      if (current === undefined) return undefined;
      const reply = await request({ type: 'freeze' }, 1_000).catch(() => undefined);
      await kill('SIGKILL');
      return reply?.type === 'stats' ? reply.stats : undefined;
    },
    stop() {
      if (current === undefined) return;
      current.process.kill('SIGSTOP');
      current.stopped = true;
    },
    cont() {
      if (current === undefined) return;
      current.process.kill('SIGCONT');
      current.stopped = false;
    },
    prepareRestart() {
      if (closed) return Promise.resolve();
      standby ??= (async () => {
        const child = forkChild(options, port, true, onMessage);
        try {
          const line = await child.nextLine(readyTimeoutMs);
          if (line.standby === true) return child;
        } catch {
          // restart() will fork a fresh child instead
        }
        child.process.kill('SIGKILL');
        return undefined;
      })();
      return standby.then(() => undefined);
    },
    async restart() {
      if (closed) throw new Error(`backend ${options.id} is closed`);
      await kill('SIGKILL');
      await launch(port);
    },
    async close() {
      closed = true;
      const prepared = standby;
      standby = undefined;
      await Promise.all([
        kill('SIGKILL'),
        prepared?.then(async (child) => {
          child?.process.kill('SIGKILL');
          await child?.exited;
        }),
      ]);
    },
  };
}

/** A {@link BackendRequest} before a `seq` is assigned (Omit distributed over the union). */
type BackendRequestBody = BackendRequest extends infer R ? (R extends BackendRequest ? Omit<R, 'seq'> : never) : never;
