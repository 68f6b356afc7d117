import { crashBackend, restartBackend, type DemoBackend } from './backends';
import type { Discovery } from './discovery';

/** A scheduled crash-and-restart of one backend. */
export interface Chaos {
  /** Cancels steps not yet started and resolves once a step in progress (e.g. a restart) has finished. */
  settle(): Promise<void>;
}

/**
 * Crashes `victim` with SIGKILL at 1/3 of the run and restarts it on the same port at 2/3, reporting each
 * step through `event`, and tells `discovery` after each step (e.g. to deregister and register again).
 * A failed step is reported, never thrown.
 * @param durationMs run length in ms; the steps are timed from now.
 */
export function scheduleCrashAndRestart(
  victim: DemoBackend,
  durationMs: number,
  event: (text: string) => void,
  discovery?: Pick<Discovery, 'left' | 'joined'>,
): Chaos {
  let inProgress: Promise<void> = Promise.resolve();
  const step = (run: () => Promise<void>): void => {
    inProgress = inProgress.then(run).catch((error: unknown) => {
      event(`${victim.process.id}: ${error instanceof Error ? error.message : String(error)}`);
    });
  };
  const tell = (line: string | undefined): void => {
    if (line !== undefined) event(line);
  };

  const crashTimer = setTimeout(
    () =>
      step(async () => {
        const pid = victim.process.pid;
        await crashBackend(victim);
        event(`SIGKILL ${victim.process.id} (pid ${pid}, ${victim.process.address}): connections reset, no GOAWAY`);
        tell(await discovery?.left(victim));
      }),
    durationMs / 3,
  );
  const restartTimer = setTimeout(
    () =>
      step(async () => {
        const began = Date.now();
        event(`restarting ${victim.process.id} on ${victim.process.address}`);
        await restartBackend(victim);
        const took = ((Date.now() - began) / 1000).toFixed(1);
        event(`${victim.process.id} is back (pid ${victim.process.pid}, start-up took ${took} s)`);
        tell(await discovery?.joined(victim));
      }),
    (2 * durationMs) / 3,
  );

  return {
    settle() {
      clearTimeout(crashTimer);
      clearTimeout(restartTimer);
      return inProgress;
    },
  };
}
