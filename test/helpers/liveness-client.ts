/**
 * A standalone client script for the liveness tests (`test/integration/liveness.test.ts`): one
 * switchyard channel to `127.0.0.1:<port>` (an echo backend in another process), one scenario, and
 * nothing else holding the event loop — the process must stay alive exactly as long as a call (or a
 * `waitForReady`) is pending, and end by itself after.
 *
 *   tsx test/helpers/liveness-client.ts <scenario> <port>
 *
 * Scenarios:
 * - `first-call`: one unary call on a new channel (resolution, connection, attempt).
 * - `retried-call`: the connection is made first while a ref'd timer holds the loop; then, with
 *   nothing held, one call whose first attempt the server fails with UNAVAILABLE; the retry policy waits
 *   ~200 ms (A6 backoff) before the second attempt.
 * - `wait-for-ready-call`: a wait-for-ready unary call to a port where no server listens yet; prints
 *   `started`, and the test starts the server.
 * - `wait-for-ready-api`: `client.waitForReady(deadline, callback)` on a channel whose server is not up
 *   yet; prints `started`.
 * - `idle-channel`: one call (the loop held by a ref'd timer until its callback, so only what follows
 *   is tested), then nothing: the channel is neither closed nor used, and the process must exit.
 *
 * Output: `started` once the call is under way, `callback <code name>` when its callback runs. Exit
 * code: 0 after a successful callback, 1 after a failed one, 10 when the process exits with the
 * callback never run (Node's event loop emptied while the call was pending).
 */
import * as grpc from '@grpc/grpc-js';
import { createChannel, type SwitchyardChannel } from '../../src/index';
import { ECHO_SERVICE_NAME, EchoClient } from '../../examples/backend/echo-proto';

const CALLBACK_NEVER_RAN = 10;
const [scenario, port] = process.argv.slice(2);
const target = `127.0.0.1:${port}`;
const credentials = grpc.credentials.createInsecure();
const DEADLINE_MS = 20_000;

process.exitCode = CALLBACK_NEVER_RAN;

function callback(error: Error | null | undefined, close?: () => void): void {
  const code = (error as grpc.ServiceError | null | undefined)?.code ?? grpc.status.OK;
  process.stdout.write(`callback ${error ? `${grpc.status[code] ?? 'ERROR'} ${error.message}` : 'OK'}\n`);
  process.exitCode = error ? 1 : 0;
  close?.();
}

function open(serviceConfig?: object): { channel: SwitchyardChannel; client: EchoClient; close(): void } {
  const channel = createChannel(target, credentials, serviceConfig === undefined ? {} : { serviceConfig });
  const client = new EchoClient(target, credentials, { channelOverride: channel });
  return { channel, client, close: () => channel.close() };
}

const deadline = (): number => Date.now() + DEADLINE_MS;

switch (scenario) {
  case 'first-call': {
    const { client, close } = open();
    client.Unary({ message: 'first' }, new grpc.Metadata(), { deadline: deadline() }, (error) => callback(error, close));
    process.stdout.write('started\n');
    break;
  }
  case 'retried-call': {
    const { client, close } = open({
      methodConfig: [{
        name: [{ service: ECHO_SERVICE_NAME }],
        retryPolicy: {
          maxAttempts: 2, initialBackoff: '0.2s', maxBackoff: '0.2s', backoffMultiplier: 1, retryableStatusCodes: ['UNAVAILABLE'],
        },
      }],
    });
    const hold = setInterval(() => undefined, 60_000);
    client.Unary({ message: 'warm-up' }, new grpc.Metadata(), { deadline: deadline() }, (warmUpError) => {
      clearInterval(hold);
      if (warmUpError) return callback(warmUpError, close);
      // The first attempt fails with UNAVAILABLE; the retry comes after the ~200 ms backoff.
      client.Unary({ message: 'retried', fail_code: grpc.status.UNAVAILABLE, fail_attempts: 1 }, new grpc.Metadata(), { deadline: deadline() },
        (error, reply) => callback(error ?? (reply?.attempt === 1 ? null : new Error(`served by attempt ${reply?.attempt}`)), close));
      process.stdout.write('started\n');
    });
    break;
  }
  case 'wait-for-ready-call': {
    const { client, close } = open();
    // grpc-js's way to mark one call wait-for-ready (its CallOptions have no such field).
    const metadata = new grpc.Metadata();
    metadata.setOptions({ waitForReady: true });
    client.Unary({ message: 'wait' }, metadata, { deadline: deadline() }, (error) => callback(error, close));
    process.stdout.write('started\n');
    break;
  }
  case 'wait-for-ready-api': {
    const { client, close } = open();
    client.waitForReady(deadline(), (error) => callback(error, close));
    process.stdout.write('started\n');
    break;
  }
  case 'idle-channel': {
    const { client } = open();
    const hold = setInterval(() => undefined, 60_000);
    client.Unary({ message: 'once' }, new grpc.Metadata(), { deadline: deadline() }, (error) => {
      clearInterval(hold);
      // Neither the client nor the channel is closed: an idle channel must not keep the process alive.
      callback(error);
    });
    process.stdout.write('started\n');
    break;
  }
  default:
    process.stderr.write(`unknown scenario ${scenario}\n`);
    process.exitCode = 2;
}
