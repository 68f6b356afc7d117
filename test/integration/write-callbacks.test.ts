/**
 * Write callbacks always complete (issue 9, spec deviation 4): when a client stream ends early — the
 * server rejects it, its deadline passes, or the application cancels it — while the application keeps
 * writing with `write()` and waits for 'drain', every write callback completes and `'finish'` fires.
 * grpc-js's own channel does this (the control row); a switchyard channel used to complete a handful
 * of callbacks and then hang. Real grpc-js server on loopback, real HTTP/2.
 */
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel } from '../../src/index';

const insecure = grpc.credentials.createInsecure();
const WRITES = 200;
/** Small messages: all 200 fit the retry buffers of grpc-js and switchyard (256 KiB per call). */
const SMALL = Buffer.alloc(100, 'x');
/** Large enough that writes back up on the stream and overflow the retry buffer (the call commits). */
const LARGE = Buffer.alloc(16 * 1024, 'x');
const identity = (buffer: Buffer): Buffer => buffer;

const service: grpc.ServiceDefinition = {
  /** Fails with INVALID_ARGUMENT on the first message, before reading the rest. */
  Reject: {
    path: '/switchyard.test.Writes/Reject', requestStream: true, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
  /** Reads everything and never answers. */
  Hang: {
    path: '/switchyard.test.Writes/Hang', requestStream: true, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
};

interface Outcome {
  /** Write callbacks that ran. */
  completed: number;
  status: grpc.StatusObject;
}

/**
 * Write {@link WRITES} messages as a well-behaved writer does (`write()`, and 'drain' when it returns
 * false), then `end()`; resolves once 'finish' fired and the status is in. `act` runs before each
 * write, with a promise of the call's status.
 */
async function writeAll(
  client: grpc.Client,
  message: Buffer,
  method: 'Reject' | 'Hang',
  options: grpc.CallOptions,
  act?: (call: grpc.ClientWritableStream<Buffer>, written: number, ended: Promise<grpc.StatusObject>) => Promise<void> | void,
): Promise<Outcome> {
  const stream = client.makeClientStreamRequest(service[method]!.path, identity, identity, new grpc.Metadata(), options, () => {});
  const ended = once(stream, 'status').then(([status]) => status as grpc.StatusObject);
  const finished = once(stream, 'finish');
  let completed = 0;
  for (let i = 0; i < WRITES; i++) {
    await act?.(stream, i, ended);
    if (!stream.write(message, () => completed++)) await once(stream, 'drain');
  }
  stream.end();
  // A lost write callback leaves the stream waiting here (or for 'drain' above) until the test times out.
  await finished;
  return { completed, status: await ended };
}

describe('write callbacks of a client stream that ends early', () => {
  let server: grpc.Server;
  let target: string;

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(service, {
      Reject(call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
        call.once('data', () => callback({ code: grpc.status.INVALID_ARGUMENT, details: 'rejected' }));
      },
      Hang(call: grpc.ServerReadableStream<Buffer, Buffer>) {
        call.resume();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
    );
    target = `127.0.0.1:${port}`;
  });
  afterAll(() => server.forceShutdown());

  // The control (plain grpc-js) must pass the small-message rows too, or they ask for something grpc-js
  // does not do; with large messages grpc-js 1.14 itself stalls after the server's rejection (its
  // committed writes wait for HTTP/2 write callbacks that never come), switchyard must not.
  // Breaking the fix (a write after the call ended, or one queued on a cancelled attempt, never calling
  // back) makes the switchyard rows hang until the test timeout.
  const rows = [
    { kind: 'grpc-js', size: 'small', message: SMALL },
    { kind: 'switchyard', size: 'small', message: SMALL },
    { kind: 'switchyard', size: 'large', message: LARGE },
  ] as const;
  for (const { kind, size, message } of rows) {
    describe(`${kind}, ${size} messages`, () => {
      function open(): { client: grpc.Client; close: () => void } {
        if (kind === 'grpc-js') {
          const client = new grpc.Client(target, insecure);
          return { client, close: () => client.close() };
        }
        const channel = createChannel(`ipv4:${target}`, insecure);
        const client = new grpc.Client(target, insecure, { channelOverride: channel });
        return { client, close: () => channel.close() };
      }

      it('the server rejects the stream: all 200 callbacks complete and finish fires', async () => {
        const { client, close } = open();
        const outcome = await writeAll(client, message, 'Reject', {}, async (_call, written, ended) => {
          if (written === 20) await ended;
        });
        close();
        expect(outcome).toMatchObject({ completed: WRITES, status: { code: grpc.status.INVALID_ARGUMENT } });
      });

      it('the application cancels mid-stream', async () => {
        const { client, close } = open();
        const outcome = await writeAll(client, message, 'Hang', {}, async (call, written, ended) => {
          if (written !== 20) return;
          call.cancel();
          await ended;
        });
        close();
        expect(outcome).toMatchObject({ completed: WRITES, status: { code: grpc.status.CANCELLED } });
      });

      it('the deadline passes mid-stream', async () => {
        const { client, close } = open();
        const outcome = await writeAll(client, message, 'Hang', { deadline: Date.now() + 300 }, async (_call, written, ended) => {
          // The writer goes on after the deadline ended the call.
          if (written === 20) await ended;
        });
        close();
        expect(outcome).toMatchObject({ completed: WRITES, status: { code: grpc.status.DEADLINE_EXCEEDED } });
      });
    });
  }
});
