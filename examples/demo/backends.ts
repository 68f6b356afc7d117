import { startBackendProcess, type BackendProcess } from '../backend/backend-process';
import type { MethodStats } from '../backend/echo-service';

/** One demo backend: a child process plus the counters of its earlier (killed) incarnations. */
export interface DemoBackend {
  readonly process: BackendProcess;
  /** Counters of incarnations that were killed, read just before each kill. */
  readonly carried: MethodStats;
}

/** What a backend reports over its whole life in the demo. */
export interface BackendTotals {
  id: string;
  address: string;
  /** Server-side counters summed over every incarnation; undefined when the backend could not be asked. */
  server: MethodStats | undefined;
}

/**
 * Starts `count` backend child processes on loopback with ids `b1`, `b2`, … in parallel.
 * @param extraArgs extra `examples/backend/server.ts` arguments for the backend with this 0-based index
 *   (e.g. `--fail-rate` for a flaky one).
 * @throws Error (rejects) when one does not start; the ones that did are killed first.
 */
export async function startDemoBackends(
  count: number,
  extraArgs: (index: number) => readonly string[] = () => [],
): Promise<DemoBackend[]> {
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startBackendProcess({ id: `b${i + 1}`, args: extraArgs(i) })),
  );
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(started.map((b) => b.close()));
    throw failure.reason;
  }
  return started.map((process) => ({ process, carried: { calls: 0, errors: 0, cancelled: 0 } }));
}

function add(into: MethodStats, from: MethodStats): void {
  into.calls += from.calls;
  into.errors += from.errors;
  into.cancelled += from.cancelled;
}

/**
 * Crashes a backend with SIGKILL (no GOAWAY, connections reset), keeping its exact final counters for the
 * report, then loads a replacement in the background so the later restart only has to bind the port.
 */
export async function crashBackend(backend: DemoBackend): Promise<void> {
  const stats = await backend.process.crash();
  if (stats !== undefined) add(backend.carried, stats.total);
  void backend.process.prepareRestart();
}

/** Restarts a crashed backend on the same port. @throws Error (rejects) when it does not come back. */
export async function restartBackend(backend: DemoBackend): Promise<void> {
  await backend.process.restart();
}

/** Reads every backend's lifetime counters (carried + current incarnation). Never rejects. */
export async function backendTotals(backends: readonly DemoBackend[]): Promise<BackendTotals[]> {
  return Promise.all(
    backends.map(async (b) => {
      const current = b.process.running ? await b.process.stats(2_000).catch(() => undefined) : undefined;
      let server: MethodStats | undefined;
      if (current !== undefined || !b.process.running) {
        server = { ...b.carried };
        if (current !== undefined) add(server, current.total);
      }
      return { id: b.process.id, address: b.process.address, server };
    }),
  );
}

/** SIGKILLs every backend. Never rejects. */
export async function closeBackends(backends: readonly DemoBackend[]): Promise<void> {
  await Promise.all(backends.map((b) => b.process.close().catch(() => undefined)));
}
