/**
 * Process liveness (issue 9, "A process must not exit while a call is pending"): a client script in its
 * own process with nothing else holding the event loop (`test/helpers/liveness-client.ts`), the echo
 * backend in another. This is the only way the property can fail: inside vitest, the test runner's own
 * handles keep every process alive.
 *
 * What they guard: `channel/liveness.ts` (one ref'd handle while a call is unfinished or a watch with a
 * deadline waits). Without it every pending-call test below fails: the script exits with its callback
 * never run (every switchyard timer is unref'd, and an HTTP/2 session without an active stream is too).
 */
import { createServer } from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackendProcess, type BackendProcess } from '../helpers/backend-process';
import { startScript, type ScriptExit } from '../helpers/script-process';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

const CLIENT = path.resolve(__dirname, '../helpers/liveness-client.ts');
const SCRIPT_TIMEOUT_MS = 30_000;

const backends: BackendProcess[] = [];
const proxies: TcpProxy[] = [];

afterEach(async () => {
  await Promise.all([...backends.splice(0).map((b) => b.close()), ...proxies.splice(0).map((p) => p.close())]);
});

async function startBackend(port?: number): Promise<BackendProcess> {
  const backend = await startBackendProcess({ id: 'liveness', ...(port === undefined ? {} : { port }) });
  backends.push(backend);
  return backend;
}

/** A port nothing listens on (yet): bound once by the OS, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The script ran the callback (successfully) and then exited by itself with code 0. */
function expectCallbackThenExit(exit: ScriptExit): void {
  // An early exit (the bug) is code 10 with no `callback` line; a hang is `timedOut`.
  expect({ timedOut: exit.timedOut, code: exit.code, callback: exit.stdout.match(/^callback .*$/m)?.[0] })
    .toEqual({ timedOut: false, code: 0, callback: 'callback OK' });
}

describe('a standalone client process stays alive while a call is pending, and exits after', () => {
  // Breaking it: the process exits (code 10) during connection setup, before the call's callback ran.
  // The server's handshake is held back 300 ms (a far server) so that the window in which nothing but
  // the pending call could hold the loop is always there, not only when the machine is slow.
  it('a first call on a new channel', async () => {
    const backend = await startBackend();
    const proxy = await startTcpProxy(backend.port, { replyDelayMs: 300 });
    proxies.push(proxy);
    expectCallbackThenExit(await startScript(CLIENT, ['first-call', String(proxy.port)], { timeoutMs: SCRIPT_TIMEOUT_MS }).exited);
  });

  // Breaking it: the process exits during the ~200 ms retry backoff (the only thing pending is an unref'd timer).
  it('a call waiting in retry backoff', async () => {
    const backend = await startBackend();
    expectCallbackThenExit(await startScript(CLIENT, ['retried-call', String(backend.port)], { timeoutMs: SCRIPT_TIMEOUT_MS }).exited);
  });

  /** Runs `scenario` against a port where a server starts only once the script says it is waiting. */
  async function withServerStartingLater(scenario: string): Promise<ScriptExit> {
    const port = await freePort();
    const script = startScript(CLIENT, [scenario, String(port)], { timeoutMs: SCRIPT_TIMEOUT_MS });
    await script.waitForLine((line) => line === 'started', SCRIPT_TIMEOUT_MS);
    await startBackend(port);
    return script.exited;
  }

  // Breaking it: the process exits while the call waits for a connection to a server that is not up yet.
  it('a wait-for-ready call whose server starts later', async () => {
    expectCallbackThenExit(await withServerStartingLater('wait-for-ready-call'));
  });

  // Breaking it: the process exits while client.waitForReady waits (its deadline timer is unref'd).
  it('client.waitForReady(deadline, callback) whose server starts later', async () => {
    expectCallbackThenExit(await withServerStartingLater('wait-for-ready-api'));
  });

  // Breaking it (the opposite hole): a fix that keeps a handle ref'd after the last call — a ref'd timer,
  // a ref'd idle connection — makes this script hang until the timeout. Passes on main.
  it('an idle channel (one call done, never closed) does not keep the process alive', async () => {
    const backend = await startBackend();
    expectCallbackThenExit(await startScript(CLIENT, ['idle-channel', String(backend.port)], { timeoutMs: SCRIPT_TIMEOUT_MS }).exited);
  });
});
