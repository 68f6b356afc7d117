/**
 * The echo backend as a child process, for integration tests and the demo.
 *
 *   tsx examples/backend/server.ts --id b1 [--port 0] [--host 127.0.0.1]
 *       [--fail-rate 0.1 --fail-code 14] [--delay-ms N --delay-fraction F] [--grace-ms 5000] [--standby] [--orca oob|per-call]
 *
 * Prints one JSON line `{"ready":true,"port":N}` on stdout once listening. With `--standby` (IPC only) it
 * first loads everything, prints `{"standby":true}` and binds only when told to (`{type:'listen'}`), so
 * a restart on the same port takes milliseconds instead of a TypeScript start-up.
 *
 * When started with an IPC channel (`child_process.fork`) it answers {@link BackendRequest} messages and
 * exits as soon as the parent disconnects, so a crashed parent leaves no orphan. SIGTERM / SIGINT shut
 * down gracefully (GOAWAY, running calls finish, cut off after `--grace-ms`).
 */
import { parseArgs } from 'node:util';
import { startEchoServer, type EchoServerHandle } from './echo-server';
import type { BackendReply, BackendRequest } from './ipc';

/** How long a frozen child waits for the parent's SIGKILL before exiting by itself, in ms. */
const FREEZE_LIMIT_MS = 10_000;

function numberArg(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new RangeError(`--${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

function send(reply: BackendReply, then?: () => void): void {
  // The callback runs once the reply is written to the IPC pipe, so freezing after it loses nothing.
  process.send?.(reply, undefined, undefined, then === undefined ? undefined : () => then());
}

/** Blocks the event loop: nothing more is served or counted until the parent's SIGKILL lands. */
function freeze(): never {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, FREEZE_LIMIT_MS);
  process.exit(137);
}

function answer(server: EchoServerHandle, message: BackendRequest): void {
  try {
    switch (message.type) {
      case 'stats':
        return send({ type: 'stats', seq: message.seq, stats: server.stats() });
      case 'freeze':
        return send({ type: 'stats', seq: message.seq, stats: server.stats() }, freeze);
      case 'reset-stats':
        server.resetStats();
        return send({ type: 'ok', seq: message.seq });
      case 'behaviour':
        server.setBehaviour(message.behaviour);
        return send({ type: 'ok', seq: message.seq });
      case 'listen':
        return; // already listening
      default:
        return send({ type: 'error', seq: (message as { seq?: number }).seq ?? -1, message: 'unknown request' });
    }
  } catch (error) {
    send({ type: 'error', seq: message.seq, message: error instanceof Error ? error.message : String(error) });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      id: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'fail-rate': { type: 'string' },
      'fail-code': { type: 'string' },
      'delay-ms': { type: 'string' },
      'delay-fraction': { type: 'string' },
      'grace-ms': { type: 'string', default: '5000' },
      standby: { type: 'boolean', default: false },
      orca: { type: 'string' },
    },
    strict: true,
  });
  if (values.id === undefined) throw new RangeError('--id is required');
  const graceMs = numberArg('grace-ms', values['grace-ms']) ?? 5_000;
  const port = numberArg('port', values.port);
  const behaviour = {
    failRate: numberArg('fail-rate', values['fail-rate']),
    failCode: numberArg('fail-code', values['fail-code']),
    delayMs: numberArg('delay-ms', values['delay-ms']),
    delayFraction: numberArg('delay-fraction', values['delay-fraction']),
  };

  // Assigned once the server listens; the signal handlers below may run before that.
  // eslint-disable-next-line prefer-const
  let server: EchoServerHandle | undefined;
  let shuttingDown = false;
  const shutdown = (): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (server === undefined) process.exit(0);
    void server.stop(graceMs).then(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  if (process.send !== undefined) {
    // No graceful drain here: the parent is gone, nobody is left to wait for us.
    process.on('disconnect', () => {
      server?.forceStop();
      process.exit(0);
    });
  } else if (values.standby) {
    throw new RangeError('--standby needs an IPC channel (start it with child_process.fork)');
  }

  if (values.standby) {
    const listen = new Promise<void>((resolve) => {
      const onMessage = (message: BackendRequest): void => {
        if (message.type !== 'listen') return;
        process.off('message', onMessage);
        resolve();
      };
      process.on('message', onMessage);
    });
    process.stdout.write(`${JSON.stringify({ standby: true })}\n`);
    await listen;
  }

  if (values.orca !== undefined && values.orca !== 'oob' && values.orca !== 'per-call') throw new RangeError('--orca must be oob or per-call');
  const started = await startEchoServer({ id: values.id, port, host: values.host, behaviour, orca: values.orca });
  server = started;
  if (shuttingDown) return void started.stop(graceMs).then(() => process.exit(0));
  process.on('message', (message: BackendRequest) => answer(started, message));
  process.stdout.write(`${JSON.stringify({ ready: true, port: started.port })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`backend: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
