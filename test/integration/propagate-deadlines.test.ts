import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentCallContext, propagateDeadlines, runWithDeadline, type CallContext } from '../../src/deadline/context';

// A schema-less service: messages are raw Buffers, so no .proto file is needed.
const identity = (b: Buffer): Buffer => b;
function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: `/switchyard.test.Ctx/${name}`,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}
const definition = {
  Unary: method('Unary', false, false),
  ClientStream: method('ClientStream', true, false),
  ServerStream: method('ServerStream', false, true),
  Bidi: method('Bidi', true, true),
} as unknown as grpc.ServiceDefinition;

type ServerCall =
  | grpc.ServerUnaryCall<Buffer, Buffer>
  | grpc.ServerReadableStream<Buffer, Buffer>
  | grpc.ServerWritableStream<Buffer, Buffer>
  | grpc.ServerDuplexStream<Buffer, Buffer>;

interface Seen {
  ctx?: CallContext;
  deadlines: number[];
  cancelledEvents: number;
  onCancelCalls: number;
  serverCall?: ServerCall;
  /** Resolves when grpc-js emits 'cancelled' on the server call (it does so after every call). */
  cancelledEmitted?: Promise<unknown>;
  /** Resolves when the context's cancellation fires. */
  contextCancelled?: Promise<void>;
}

/** The handler of the next call records into `seen`; each test resets it. */
let seen: Seen = { deadlines: [], cancelledEvents: 0, onCancelCalls: 0 };
/** What the next handler does after recording; tests swap it. */
let behaviour: 'respond' | 'hang' | 'nest' = 'respond';

function record(call: ServerCall): void {
  const ctx = currentCallContext();
  const s = seen; // this call's record, even if the context fires after the next test started
  s.ctx = ctx;
  s.serverCall = call;
  s.deadlines.push(ctx?.deadline ?? NaN);
  s.cancelledEmitted = once(call, 'cancelled');
  s.contextCancelled = new Promise<void>((resolve) =>
    ctx?.onCancel(() => {
      s.onCancelCalls++;
      resolve();
    }),
  );
}

async function afterAsyncHops(): Promise<void> {
  await Promise.resolve();
  await new Promise<void>((resolve) => setTimeout(resolve, 5));
}

const implementation: grpc.UntypedServiceImplementation = {
  async Unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
    await afterAsyncHops();
    record(call);
    if (behaviour === 'hang') return;
    if (behaviour === 'nest') {
      runWithDeadline(Date.now() + 1000, () => seen.deadlines.push(currentCallContext()!.deadline));
      runWithDeadline(Infinity, () => seen.deadlines.push(currentCallContext()!.deadline));
    }
    callback(null, Buffer.from('ok'));
  },
  async ClientStream(call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
    let count = 0;
    for await (const _message of call) {
      count++;
      seen.deadlines.push(currentCallContext()?.deadline ?? NaN);
    }
    await afterAsyncHops();
    record(call);
    callback(null, Buffer.from(String(count)));
  },
  async ServerStream(call: grpc.ServerWritableStream<Buffer, Buffer>) {
    await afterAsyncHops();
    record(call);
    call.write(Buffer.from('first'));
    if (behaviour === 'hang') return;
    call.end();
  },
  async Bidi(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
    // destroyOnReturn: false — by default the iterator destroys the whole Duplex when the loop ends, and
    // the status could no longer be sent.
    for await (const message of call.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      await afterAsyncHops();
      seen.deadlines.push(currentCallContext()?.deadline ?? NaN);
      call.write(message);
    }
    record(call);
    call.end();
  },
};

let server: grpc.Server;
type AnyMethod = (...args: unknown[]) => unknown;
let client: grpc.Client & { Unary: AnyMethod; ClientStream: AnyMethod; ServerStream: AnyMethod; Bidi: AnyMethod };

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(definition, propagateDeadlines(implementation));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const Client = grpc.makeGenericClientConstructor(definition, 'Ctx');
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof client;
});

afterAll(async () => {
  client?.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

function reset(next: typeof behaviour = 'respond'): void {
  seen = { deadlines: [], cancelledEvents: 0, onCancelCalls: 0 };
  behaviour = next;
}

function unary(deadline: grpc.Deadline | undefined): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    client.Unary(Buffer.from('x'), deadline === undefined ? {} : { deadline }, (err: grpc.ServiceError | null) => resolve(err));
  });
}

/** The server's deadline is its receive time + the ms-rounded-up `grpc-timeout`: never earlier than ours. */
function expectNear(serverDeadline: number, clientDeadline: number): void {
  expect(serverDeadline).toBeGreaterThanOrEqual(clientDeadline - 1);
  expect(serverDeadline).toBeLessThan(clientDeadline + 5000);
}

describe('propagateDeadlines with a grpc-js server on loopback', () => {
  it('unary: the incoming deadline is visible after await and setTimeout', async () => {
    reset();
    const deadline = Date.now() + 30_000;
    expect(await unary(deadline)).toBeNull();
    expect(seen.deadlines).toHaveLength(1);
    expectNear(seen.deadlines[0]!, deadline);
  });

  it('unary without a deadline: Infinity', async () => {
    reset();
    expect(await unary(undefined)).toBeNull();
    expect(seen.deadlines).toEqual([Infinity]);
  });

  it('client streaming: visible inside for-await and after it', async () => {
    reset();
    const deadline = Date.now() + 30_000;
    const reply = await new Promise<string>((resolve, reject) => {
      const call = client.ClientStream({ deadline }, (err: Error | null, res: Buffer) => (err ? reject(err) : resolve(res.toString()))) as grpc.ClientWritableStream<Buffer>;
      call.write(Buffer.from('a'));
      call.write(Buffer.from('b'));
      call.end();
    });
    expect(reply).toBe('2');
    expect(seen.deadlines).toHaveLength(3);
    for (const d of seen.deadlines) expectNear(d, deadline);
  });

  it('server streaming and bidi: visible after async hops', async () => {
    reset();
    const deadline = Date.now() + 30_000;
    const ss = client.ServerStream(Buffer.from('x'), { deadline }) as grpc.ClientReadableStream<Buffer>;
    for await (const _m of ss) void _m;
    expect(seen.deadlines).toHaveLength(1);
    expectNear(seen.deadlines[0]!, deadline);

    reset();
    const bidi = client.Bidi({ deadline }) as grpc.ClientDuplexStream<Buffer, Buffer>;
    bidi.write(Buffer.from('1'));
    bidi.write(Buffer.from('2'));
    bidi.end();
    const echoed: string[] = [];
    for await (const m of bidi as AsyncIterable<Buffer>) echoed.push(m.toString());
    expect(echoed).toEqual(['1', '2']);
    expect(seen.deadlines).toHaveLength(3);
    for (const d of seen.deadlines) expectNear(d, deadline);
  });

  it('a normally completed call does not cancel its context, and leaves no listener behind', async () => {
    reset();
    expect(await unary(Date.now() + 30_000)).toBeNull();
    await seen.cancelledEmitted; // grpc-js emits 'cancelled' after every call, even a successful one
    await sleep(1);
    expect(seen.onCancelCalls).toBe(0);
    expect(seen.ctx!.cancelled).toBe(false);
    expect(seen.serverCall!.listenerCount('cancelled')).toBe(0);
  });

  it('cancelling the client call fires the context cancellation', async () => {
    reset('hang');
    const call = client.ServerStream(Buffer.from('x'), { deadline: Date.now() + 30_000 }) as grpc.ClientReadableStream<Buffer>;
    call.on('error', () => undefined); // CANCELLED
    await once(call, 'data');
    call.cancel();
    await seen.contextCancelled;
    expect(seen.onCancelCalls).toBe(1);
    expect(seen.ctx!.cancelled).toBe(true);
    expect(seen.serverCall!.listenerCount('cancelled')).toBe(0);
  });

  it('the incoming deadline expiring on the server cancels the context', async () => {
    reset('hang');
    const err = await unary(Date.now() + 300);
    expect(err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await seen.contextCancelled;
    expect(seen.ctx!.cancelled).toBe(true);
  });

  it('runWithDeadline inside a handler: the earlier deadline wins', async () => {
    reset('nest');
    const deadline = Date.now() + 30_000;
    const before = Date.now();
    expect(await unary(deadline)).toBeNull();
    const [incoming, shorter, unlimited] = seen.deadlines;
    expectNear(incoming!, deadline);
    expect(shorter).toBeGreaterThanOrEqual(before + 1000);
    expect(shorter).toBeLessThan(incoming!);
    expect(unlimited).toBe(incoming);
  });
});
