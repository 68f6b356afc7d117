import type { LoadCounters } from './load';

/** Prints the live progress line and event lines of a run. */
export interface Progress {
  /** Prints an event line (e.g. a backend crash) without garbling the progress line. */
  event(text: string): void;
  /** Stops the periodic line and prints a final one. Idempotent. */
  stop(): void;
}

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  /** The counters to show. */
  counters: LoadCounters;
  /** Start of the run, ms since the epoch (elapsed time is shown relative to it). */
  startedAt: number;
  /** Backend ids to always show a share for, in order (others are added as replies name them). */
  backendIds?: readonly string[];
  /** Where to write. Default `process.stdout`. */
  out?: NodeJS.WriteStream;
}

interface Snapshot {
  at: number;
  finished: number;
  okByBackend: Map<string, number>;
}

function snapshot(counters: LoadCounters): Snapshot {
  return { at: Date.now(), finished: counters.ok + counters.failed, okByBackend: new Map(counters.okByBackend) };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

/** Formats seconds since `startedAt`, e.g. `  6.7s`. */
export function elapsed(startedAt: number, now = Date.now()): string {
  return pad(`${((now - startedAt) / 1000).toFixed(1)}s`, 6);
}

/**
 * Shows a live progress line: elapsed time, calls/s, OK and failed totals, and each backend's share of
 * the OK replies. Rates and shares cover the last interval only, so a crashed backend visibly drops to
 * 0 %. On a TTY one line is rewritten every 250 ms; otherwise a line is printed every second.
 */
export function startProgress(options: ProgressOptions): Progress {
  const out = options.out ?? process.stdout;
  const tty = out.isTTY === true;
  const { counters, startedAt } = options;
  const ids = [...(options.backendIds ?? [])];
  let previous = snapshot(counters);
  let stopped = false;

  const line = (): string => {
    const current = snapshot(counters);
    const seconds = Math.max(1e-3, (current.at - previous.at) / 1000);
    const rate = (current.finished - previous.finished) / seconds;
    for (const id of current.okByBackend.keys()) if (!ids.includes(id)) ids.push(id);
    const deltas = ids.map((id) => (current.okByBackend.get(id) ?? 0) - (previous.okByBackend.get(id) ?? 0));
    const okInWindow = deltas.reduce((a, b) => a + b, 0);
    const shares = ids
      .map((id, i) => `${id} ${pad(okInWindow === 0 ? '-' : `${Math.round((100 * deltas[i]!) / okInWindow)}%`, 4)}`)
      .join('  ');
    previous = current;
    return (
      `${elapsed(startedAt, current.at)}  ${pad(rate.toFixed(0), 6)} calls/s  ok ${pad(String(counters.ok), 7)}` +
      `  failed ${pad(String(counters.failed), 5)}  | ${shares}`
    );
  };

  const print = (): void => {
    if (tty) out.write(`\r${line()}\x1b[K`);
    else out.write(`${line()}\n`);
  };

  const timer = setInterval(print, tty ? 250 : 1000);

  return {
    event(text) {
      out.write(`${tty ? '\r\x1b[K' : ''}${elapsed(startedAt)}  ** ${text}\n`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      print();
      if (tty) out.write('\n');
    },
  };
}
