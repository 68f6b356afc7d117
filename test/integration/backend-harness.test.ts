import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackendProcess, type BackendProcess } from '../helpers/backend-process';
import {
  bidi,
  clientStream,
  makeEchoClient,
  serverStream,
  unary,
  unaryOutcome,
  type EchoClient,
  type StreamError,
} from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';

function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  return (async () => {
    while (!(await predicate())) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
}

/** grpc-js takes wait-for-ready from the metadata options, not from the call options. */
function waitForReady(): grpc.Metadata {
  return new grpc.Metadata({ waitForReady: true });
}

describe('in-process echo server', () => {
  let server: EchoServerHandle;
  let client: EchoClient;

  beforeAll(async () => {
    server = await startEchoServer({ id: 'e1' });
    client = makeEchoClient(server.address);
  });
  afterAll(async () => {
    client.close();
    await server.stop();
  });
  afterEach(() => {
    server.setBehaviour({});
    server.resetStats();
  });

  it('echoes the message with backend id, attempt, authority, deadline and x- headers', async () => {
    const reply = await unary(
      client,
      { message: 'hi' },
      { timeoutMs: 10_000, metadata: { 'x-trace': 'abc', other: 'no' } },
    );
    expect(reply.message).toBe('hi');
    expect(reply.backend).toBe('e1');
    expect(reply.attempt).toBe(0);
    expect(reply.authority).toBe(server.address);
    expect(reply.deadline_remaining_ms).toBeGreaterThan(0);
    expect(reply.deadline_remaining_ms).toBeLessThanOrEqual(10_000);
    expect(reply.metadata).toEqual({ 'x-trace': 'abc' });
    const noDeadline = await unary(client, { message: 'x' });
    expect(noDeadline.deadline_remaining_ms).toBe(-1);
  });

  it('fails with the requested code and pushback trailer, as trailers-only', async () => {
    const outcome = await unaryOutcome(client, { fail_code: grpc.status.UNAVAILABLE, pushback_ms: '250' });
    expect(outcome.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(outcome.status.metadata.get('grpc-retry-pushback-ms')).toEqual(['250']);
    expect(outcome.headers).toBeUndefined();
  });

  it('sends headers before failing when fail_after_headers is set', async () => {
    const outcome = await unaryOutcome(client, { fail_code: grpc.status.INTERNAL, fail_after_headers: true });
    expect(outcome.error?.code).toBe(grpc.status.INTERNAL);
    expect(outcome.headers).toBeDefined();
  });

  it('fails only while grpc-previous-rpc-attempts < fail_attempts', async () => {
    const request = { fail_code: grpc.status.UNAVAILABLE, fail_attempts: 2 };
    await expect(unary(client, request)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await expect(
      unary(client, request, { metadata: { 'grpc-previous-rpc-attempts': '1' } }),
    ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const reply = await unary(client, request, { metadata: { 'grpc-previous-rpc-attempts': '2' } });
    expect(reply.attempt).toBe(2);
  });

  it('delays, hangs until the deadline, and counts calls, errors and cancellations per method', async () => {
    await expect(unary(client, { delay_ms: 2_000 }, { timeoutMs: 100 })).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
    await expect(unary(client, { hang: true }, { timeoutMs: 100 })).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
    await expect(unary(client, { fail_code: grpc.status.ABORTED })).rejects.toMatchObject({ code: grpc.status.ABORTED });
    await unary(client, { delay_ms: 30 });
    await waitFor(() => server.stats().methods.Unary.cancelled === 2);
    expect(server.stats().methods.Unary).toEqual({ calls: 4, errors: 1, cancelled: 2 });
    expect(server.stats().total.calls).toBe(4);
  });

  it('applies server-wide behaviour', async () => {
    server.setBehaviour({ failRate: 1, failCode: grpc.status.RESOURCE_EXHAUSTED });
    await expect(unary(client, {})).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    server.setBehaviour({ delayMs: 2_000 });
    await expect(unary(client, {}, { timeoutMs: 100 })).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    expect(() => server.setBehaviour({ failRate: 2 })).toThrow(RangeError);
  });

  it('serves the streaming kinds', async () => {
    expect(await clientStream(client, [{ message: 'a' }, { message: 'b' }])).toMatchObject({ message: 'a,b', backend: 'e1' });
    const replies = await serverStream(client, { message: 's', response_count: 3 });
    expect(replies.map((r) => r.message)).toEqual(['s', 's', 's']);
    const echoed = await bidi(client, [{ message: '1' }, { message: '2', delay_ms: 20 }, { message: '3' }]);
    expect(echoed.map((r) => r.message)).toEqual(['1', '2', '3']);
    const error = (await serverStream(client, {
      fail_code: grpc.status.UNAVAILABLE,
      fail_after_headers: true,
    }).catch((e: unknown) => e)) as StreamError;
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.replies).toHaveLength(1);
    const bidiError = (await bidi(client, [{ message: '1' }, { fail_code: grpc.status.INTERNAL }]).catch(
      (e: unknown) => e,
    )) as StreamError;
    expect(bidiError.code).toBe(grpc.status.INTERNAL);
    expect(bidiError.replies.map((r) => r.message)).toEqual(['1']);
    const stats = server.stats().methods;
    expect(stats.ClientStream.calls).toBe(1);
    expect(stats.ServerStream).toMatchObject({ calls: 2, errors: 1 });
    expect(stats.Bidi).toMatchObject({ calls: 2, errors: 1 });
  });

  it('stop() cuts off hanging calls after the grace period', async () => {
    const other = await startEchoServer({ id: 'e2' });
    const c = makeEchoClient(other.address);
    const hanging = unary(c, { hang: true }).catch((e: grpc.ServiceError) => e.code);
    await waitFor(() => other.stats().total.calls === 1);
    await other.stop(100);
    // A forced shutdown resets the stream with CANCEL, which grpc-js reports as CANCELLED.
    expect(await hanging).toBe(grpc.status.CANCELLED);
    c.close();
  });
});

describe('backend child process', () => {
  let backend: BackendProcess;
  let client: EchoClient;

  beforeAll(async () => {
    backend = await startBackendProcess({ id: 'p1' });
    // No reconnect backoff in the way of the restart test.
    client = makeEchoClient(backend.address, undefined, {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 200,
    });
  });
  afterAll(async () => {
    client.close();
    await backend.close();
  });

  it('starts, serves calls and reports stats over IPC', async () => {
    expect(backend.port).toBeGreaterThan(0);
    expect(backend.pid).toBeTypeOf('number');
    const reply = await unary(client, { message: 'hello' }, { timeoutMs: 10_000 });
    expect(reply).toMatchObject({ message: 'hello', backend: 'p1' });
    await expect(unary(client, { fail_code: grpc.status.NOT_FOUND })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    const stats = await backend.stats();
    expect(stats.id).toBe('p1');
    expect(stats.methods.Unary).toMatchObject({ calls: 2, errors: 1 });
    await backend.setBehaviour({ failRate: 1, failCode: grpc.status.DATA_LOSS });
    await expect(unary(client, {})).rejects.toMatchObject({ code: grpc.status.DATA_LOSS });
    await backend.setBehaviour({});
    await expect(backend.setBehaviour({ failRate: -1 })).rejects.toThrow(/failRate/);
  });

  it('is killed, then restarted on the same port', async () => {
    const oldPid = backend.pid;
    await backend.kill();
    expect(backend.running).toBe(false);
    expect(backend.pid).toBeUndefined();
    await expect(unary(client, {}, { timeoutMs: 2_000 })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await expect(backend.stats()).rejects.toThrow(/not running/);
    await backend.restart();
    expect(backend.pid).not.toBe(oldPid);
    const reply = await unary(client, { message: 'back' }, { timeoutMs: 10_000, metadata: waitForReady() });
    expect(reply).toMatchObject({ message: 'back', backend: 'p1' });
    expect((await backend.stats()).total.calls).toBe(1);
  });

  it('crashes with an exact final count and restarts from a prepared child', async () => {
    await backend.resetStats();
    await unary(client, {}, { timeoutMs: 10_000, metadata: waitForReady() });
    const final = await backend.crash();
    expect(final?.total.calls).toBe(1);
    expect(backend.running).toBe(false);
    await backend.prepareRestart();
    await backend.prepareRestart(); // idempotent
    await backend.restart();
    expect(backend.running).toBe(true);
    const reply = await unary(client, { message: 'again' }, { timeoutMs: 10_000, metadata: waitForReady() });
    expect(reply).toMatchObject({ message: 'again', backend: 'p1' });
  });

  it('freezes with SIGSTOP and resumes with SIGCONT', async () => {
    await unary(client, {}, { timeoutMs: 10_000, metadata: waitForReady() });
    backend.stop();
    await expect(unary(client, { message: 'frozen' }, { timeoutMs: 300 })).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
    await expect(backend.stats(200)).rejects.toThrow(/no answer/);
    backend.cont();
    const reply = await unary(client, { message: 'thawed' }, { timeoutMs: 10_000 });
    expect(reply.message).toBe('thawed');
  });

  it('drains on SIGTERM and exits', async () => {
    const other = await startBackendProcess({ id: 'p2', args: ['--grace-ms', '5000'] });
    const c = makeEchoClient(other.address);
    await unary(c, {}, { timeoutMs: 10_000 });
    const slow = unary(c, { message: 'slow', delay_ms: 300 }, { timeoutMs: 10_000 });
    slow.catch(() => {}); // awaited below; keeps a failure from being reported as unhandled meanwhile
    // Signal only once the server has the call, or the client may still be sending it.
    await waitFor(async () => (await other.stats()).total.calls === 2);
    await other.kill('SIGTERM');
    // The running call was allowed to finish before the process exited.
    expect((await slow).message).toBe('slow');
    expect(other.running).toBe(false);
    c.close();
    await other.close();
  });

  it('rejects when the child cannot start', async () => {
    await expect(startBackendProcess({ id: 'bad', args: ['--fail-rate', 'x'] })).rejects.toThrow(/fail-rate/);
  });
});
