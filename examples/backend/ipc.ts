import type { EchoBehaviour, EchoStats } from './echo-service';

/**
 * A request from the parent to a backend child process (`examples/backend/server.ts`) over the
 * `child_process.fork` IPC channel. `seq` pairs a reply with its request.
 */
export type BackendRequest =
  | { type: 'stats'; seq: number }
  | { type: 'reset-stats'; seq: number }
  | { type: 'behaviour'; seq: number; behaviour: EchoBehaviour }
  /** Reply with the counters, then stop serving for good (the parent SIGKILLs next): an exact final count. */
  | { type: 'freeze'; seq: number }
  /** To a child started with `--standby`: bind the port now (answered by the ready line on stdout). */
  | { type: 'listen'; seq: number };

/** A backend child's reply to a {@link BackendRequest} with the same `seq`. */
export type BackendReply =
  | { type: 'stats'; seq: number; stats: EchoStats }
  | { type: 'ok'; seq: number }
  | { type: 'error'; seq: number; message: string };
