/**
 * TypeScript scripts as child processes (`node --import tsx <script>`), for suites whose subject is a
 * whole process: the interop client and server, and the liveness scripts that must exit by themselves.
 * The child gets no IPC channel and no stdin, so nothing of the parent's holds its event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

// An absolute URL, so the child finds tsx whatever its working directory.
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;
const OUTPUT_TAIL_CHARS = 4_000;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** How a script process ended. */
export interface ScriptExit {
  /** Exit code, or null when killed by a signal. */
  readonly code: number | null;
  /** The signal that killed it (SIGKILL from a timeout), or null. */
  readonly signal: NodeJS.Signals | null;
  /** Killed because it did not exit within `timeoutMs`. */
  readonly timedOut: boolean;
  /** Everything it wrote to stdout. */
  readonly stdout: string;
  /** The last 4 000 characters it wrote to stderr. */
  readonly stderr: string;
}

/** A running script: its stdout line by line, and its end. */
export interface ScriptProcess {
  readonly pid: number | undefined;
  /** Every stdout line so far. */
  readonly lines: readonly string[];
  /**
   * Resolves with the first stdout line (counting lines already received) that `match` accepts.
   * @throws Error (rejects) when the process exits first or `timeoutMs` passes.
   */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Resolves when the process has exited (or was killed after `timeoutMs`). */
  readonly exited: Promise<ScriptExit>;
  /** SIGKILL; resolves once it exited. */
  kill(): Promise<ScriptExit>;
}

/** Options of {@link startScript}. */
export interface ScriptOptions {
  /** Kill the process with SIGKILL after this long, in ms, and report `timedOut`. Default: never. */
  readonly timeoutMs?: number;
  /** Give the child a stdin pipe that closes when this process dies (for servers that stop on stdin end). */
  readonly stdinPipe?: boolean;
}

/**
 * Start `script` (a `.ts` file) with `args` in a child Node process with the tsx loader. The child is
 * SIGKILLed if this process exits first.
 */
export function startScript(script: string, args: readonly string[], options: ScriptOptions = {}): ScriptProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const child = spawn(process.execPath, ['--import', TSX_LOADER, script, ...args], {
    stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    stdout += chunk;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters) waiter();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-OUTPUT_TAIL_CHARS);
  });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  let hasExited = false;
  // 'close', not 'exit': every byte of stdout and stderr has been read by then.
  const exited = new Promise<ScriptExit>((resolve) => {
    child.once('close', (code, signal) => {
      hasExited = true;
      if (timer !== undefined) clearTimeout(timer);
      live.delete(child);
      for (const waiter of waiters) waiter();
      resolve({ code, signal, timedOut, stdout, stderr });
    });
  });

  return {
    pid: child.pid,
    lines,
    exited,
    waitForLine(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const finish = (error: Error | undefined, line?: string): void => {
          clearTimeout(deadline);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(line!);
        };
        const check = (): void => {
          for (; seen < lines.length; seen++) if (match(lines[seen]!)) return finish(undefined, lines[seen]);
          if (hasExited) finish(new Error(`script exited before the expected line; stdout: ${stdout.trim()}; stderr: ${stderr.trim()}`));
        };
        const deadline = setTimeout(() => finish(new Error(`no matching line within ${timeoutMs} ms; stdout: ${stdout.trim()}`)), timeoutMs);
        waiters.add(check);
        check();
      });
    },
    kill() {
      child.kill('SIGKILL');
      return exited;
    },
  };
}
