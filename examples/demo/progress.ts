import type { LoadCounters } from './load';

/** Prints the live progress line and event lines of a run. */
export interface Progress {
  /** Prints an event line (e.g. a backend crash) without garbling the progress line. */
  event(text: string): void;
  /** Stops the periodic line and prints a final one. Idempotent. */
  stop(): void;
}

/** One load shown on the progress line. */
export interface ProgressRun {
  /** Shown before its counters, e.g. `with retries`. */
  label: string;
  /** The live counters of the load. */
  counters: LoadCounters;
  /** Extra text after the counters (e.g. live retry counts), or nothing. */
  extra?: () => string;
}

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  /** The loads to show, side by side. */
  runs: readonly ProgressRun[];
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

function snapshot(runs: readonly ProgressRun[]): Snapshot {
  const okByBackend = new Map<string, number>();
  let finished = 0;
  for (const { counters } of runs) {
    finished += counters.ok + counters.failed;
    for (const [id, n] of counters.okByBackend) okByBackend.set(id, (okByBackend.get(id) ?? 0) + n);
  }
  return { at: Date.now(), finished, okByBackend };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

/** Formats seconds since `startedAt`, e.g. `  6.7s`. */
export function elapsed(startedAt: number, now = Date.now()): string {
  return pad(`${((now - startedAt) / 1000).toFixed(1)}s`, 6);
}

/**
 * Shows a live progress line: elapsed time, calls/s over every load, each load's OK and failed totals,
 * and each backend's share of the OK replies. Rates and shares cover the last interval only, so a
 * crashed backend visibly drops to 0 %. On a TTY one line is rewritten every 250 ms; otherwise a line
 * is printed every second.
 */
export function startProgress(options: ProgressOptions): Progress {
  const out = options.out ?? process.stdout;
  const tty = out.isTTY === true;
  const { runs, startedAt } = options;
  const ids = [...(options.backendIds ?? [])];
  let previous = snapshot(runs);
  let stopped = false;

  const line = (): string => {
    const current = snapshot(runs);
    const seconds = Math.max(1e-3, (current.at - previous.at) / 1000);
    const rate = (current.finished - previous.finished) / seconds;
    for (const id of current.okByBackend.keys()) if (!ids.includes(id)) ids.push(id);
    const deltas = ids.map((id) => (current.okByBackend.get(id) ?? 0) - (previous.okByBackend.get(id) ?? 0));
    const okInWindow = deltas.reduce((a, b) => a + b, 0);
    const shares = ids
      .map((id, i) => `${id} ${pad(okInWindow === 0 ? '-' : `${Math.round((100 * deltas[i]!) / okInWindow)}%`, 4)}`)
      .join(' ');
    const loads = runs.map(({ label, counters, extra }) => {
      const more = extra === undefined ? '' : ` ${extra()}`;
      return `${label}: ok ${pad(String(counters.ok), 5)} failed ${pad(String(counters.failed), 4)}${more}`;
    });
    previous = current;
    return `${elapsed(startedAt, current.at)} ${pad(rate.toFixed(0), 5)}/s | ${loads.join(' | ')} | ${shares}`;
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
      // A final line unless the periodic one has just been printed.
      if (Date.now() - previous.at >= 200) print();
      if (tty) out.write('\n');
    },
  };
}
