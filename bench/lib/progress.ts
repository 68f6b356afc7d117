import { performance } from 'node:perf_hooks';

/** Progress output of a benchmark run: one timestamped line per step, so long runs show where they are. */
export interface Progress {
  /** Prints `[  12.3s] scenario › text`. */
  step(text: string): void;
  /** Sets the scenario shown in front of each line, with its position (`3/8`). */
  scenario(id: string, index: number, count: number): void;
  /** Seconds since the run started. */
  elapsedS(): number;
}

/** Progress lines on stderr (stdout stays free for a machine-readable summary). */
export function createProgress(out: NodeJS.WritableStream = process.stderr): Progress {
  const t0 = performance.now();
  let prefix = '';
  const elapsedS = (): number => (performance.now() - t0) / 1000;
  return {
    step(text) {
      out.write(`[${elapsedS().toFixed(1).padStart(6)}s] ${prefix}${text}\n`);
    },
    scenario(id, index, count) {
      prefix = `(${index}/${count}) ${id} › `;
    },
    elapsedS,
  };
}
