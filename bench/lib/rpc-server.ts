import type { ChildMessage, ChildRequest } from './rpc-child';

/** An operation a benchmark child offers: takes the request's params, returns a JSON-serialisable result. */
export type RpcHandler = (params: never) => unknown;

/**
 * Serves `handlers` over the `fork` IPC channel (the child side of `forkRpcChild`): answers each
 * request with its handler's result or error message, then reports ready. The process exits when the
 * parent disconnects, so a crashed benchmark leaves no orphan (and `--cpu-prof` gets to write its file).
 * @throws Error when the process was not started with an IPC channel.
 */
export function serveRpc(handlers: Record<string, RpcHandler>): void {
  if (process.send === undefined) throw new Error('this script is a benchmark child: start it with forkRpcChild');
  const send = (message: ChildMessage): void => {
    if (process.connected) process.send?.(message);
  };
  process.on('message', (raw) => {
    const request = raw as ChildRequest;
    const handler = handlers[request.op];
    if (handler === undefined) return send({ type: 'error', id: request.id, message: `unknown op ${request.op}` });
    Promise.resolve()
      .then(() => handler(request.params as never))
      .then(
        (result) => send({ type: 'result', id: request.id, result: result ?? null }),
        (error: unknown) => send({ type: 'error', id: request.id, message: error instanceof Error ? error.stack ?? error.message : String(error) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

/** Sends a progress event to the parent (ignored when nobody listens). */
export function emitEvent(event: unknown): void {
  if (process.connected) process.send?.({ type: 'event', event } satisfies ChildMessage);
}
