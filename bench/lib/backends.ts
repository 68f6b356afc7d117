import { startBackendProcess, type BackendProcess, type BackendProcessOptions } from '../../examples/backend/backend-process';

/**
 * Starts echo backends (`examples/backend/server.ts` child processes on loopback) in parallel.
 * @throws Error (rejects) when one fails to start; the others are closed first.
 */
export async function startBackends(options: readonly BackendProcessOptions[]): Promise<BackendProcess[]> {
  const results = await Promise.allSettled(options.map((o) => startBackendProcess(o)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    await closeBackends(started);
    throw failure.reason;
  }
  return started;
}

/** SIGKILLs every backend. Never rejects. */
export async function closeBackends(backends: readonly BackendProcess[]): Promise<void> {
  await Promise.all(backends.map((b) => b.close().catch(() => undefined)));
}

/** Calls that reached the handlers of `backends` (all methods), summed. @throws Error (rejects) if one does not answer. */
export async function backendCalls(backends: readonly BackendProcess[]): Promise<number> {
  const stats = await Promise.all(backends.map((b) => b.stats()));
  return stats.reduce((sum, s) => sum + s.total.calls, 0);
}

/** `ipv4:` target listing every backend. */
export function ipv4Target(backends: readonly BackendProcess[]): string {
  return `ipv4:${backends.map((b) => b.address).join(',')}`;
}
