/**
 * gRFC A6 retries end to end: a switchyard channel over a real grpc-js echo server on loopback, for
 * unary, server-streaming, client-streaming and bidi calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/channel-wait';
import { bidi, clientStream, serverStream, unary, unaryOutcome, type StreamError } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { echoConfig, noJitter, retryPolicyJson, rig, since, Status, type Rig } from '../helpers/resilience';

let server: EchoServerHandle;
let r: Rig | undefined;

beforeAll(async () => {
  server = await startEchoServer({ id: 'a' });
});
afterEach(() => {
  r?.close();
  r = undefined;
  server.resetStats();
});
afterAll(async () => {
  await server.stop();
});

function retryRig(policy: Record<string, unknown> = {}, options: Record<string, unknown> = {}): Rig {
  r = rig([server.address], { serviceConfig: echoConfig({ retryPolicy: retryPolicyJson(policy) }), random: noJitter, ...options });
  return r;
}

describe('retry policy, unary', () => {
  it('retries a retryable code with grpc-previous-rpc-attempts until an attempt succeeds', async () => {
    const { client, events, channel, settled } = retryRig({ maxAttempts: 4 });
    const reply = await unary(client, { message: 'hi', fail_code: Status.UNAVAILABLE, fail_attempts: 3 });
    // The server saw grpc-previous-rpc-attempts = 3 on the fourth attempt.
    expect(reply.attempt).toBe(3);
    expect(server.stats().methods.Unary.calls).toBe(4);
    await settled();
    expect(events.attempts.map((e) => [e.attempt, e.kind, e.code, e.committed])).toEqual([
      [1, 'initial', Status.UNAVAILABLE, false],
      [2, 'retry', Status.UNAVAILABLE, false],
      [3, 'retry', Status.UNAVAILABLE, false],
      [4, 'retry', Status.OK, true],
    ]);
    expect(events.attempts.every((e) => e.endpoint === server.address && e.method === '/switchyard.demo.Echo/Unary')).toBe(true);
    // Backoff 10 ms, then x2 (jitter factor exactly 1 with random() = 0.5), capped at 50 ms.
    expect(events.backoffs).toEqual([
      { method: '/switchyard.demo.Echo/Unary', nextAttempt: 2, delayMs: 10, pushback: false },
      { method: '/switchyard.demo.Echo/Unary', nextAttempt: 3, delayMs: 20, pushback: false },
      { method: '/switchyard.demo.Echo/Unary', nextAttempt: 4, delayMs: 40, pushback: false },
    ]);
    expect(events.commits).toEqual([{ method: '/switchyard.demo.Echo/Unary', attempt: 4, endpoint: server.address, reason: 'headers' }]);
    expect(channel.stats()).toMatchObject({ calls: 1, succeeded: 1, failed: 0, attempts: 4, retries: 3, hedges: 0, throttled: 0 });
  });

  it('gives up after maxAttempts with the last attempt status', async () => {
    const { client, events, settled } = retryRig({ maxAttempts: 3 });
    const outcome = await unaryOutcome(client, { fail_code: Status.UNAVAILABLE });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
    expect(outcome.status.details).toBe('a: requested failure (attempt 2)');
    expect(server.stats().methods.Unary.calls).toBe(3);
    await settled();
    expect(events.attempts.map((e) => e.committed)).toEqual([false, false, true]);
    expect(events.commits.map((e) => [e.attempt, e.reason])).toEqual([[3, 'status']]);
  });

  it('does not retry a code outside retryableStatusCodes', async () => {
    const { client, channel } = retryRig();
    const outcome = await unaryOutcome(client, { fail_code: Status.INVALID_ARGUMENT });
    expect(outcome.status.code).toBe(Status.INVALID_ARGUMENT);
    expect(server.stats().methods.Unary.calls).toBe(1);
    expect(channel.stats()).toMatchObject({ attempts: 1, retries: 0, failed: 1 });
  });

  it('caps maxAttempts: 10 at 5 attempts by default', async () => {
    const { client } = retryRig({ maxAttempts: 10 });
    const outcome = await unaryOutcome(client, { fail_code: Status.UNAVAILABLE });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
    expect(server.stats().methods.Unary.calls).toBe(5);
  });

  it('lets the maxAttemptsCap option raise the cap', async () => {
    const { client } = retryRig({ maxAttempts: 10 }, { maxAttemptsCap: 7 });
    const outcome = await unaryOutcome(client, { fail_code: Status.UNAVAILABLE });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
    expect(server.stats().methods.Unary.calls).toBe(7);
  });

  it('never retries once response headers arrived (committed)', async () => {
    const { client, events, settled } = retryRig();
    const outcome = await unaryOutcome(client, { fail_code: Status.UNAVAILABLE, fail_after_headers: true });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
    expect(outcome.headers).toBeDefined();
    expect(server.stats().methods.Unary.calls).toBe(1);
    await settled();
    expect(events.commits.map((e) => e.reason)).toEqual(['headers']);
    expect(events.backoffs).toEqual([]);
  });
});

describe('retry pushback (grpc-retry-pushback-ms)', () => {
  it('waits the pushback delay instead of the backoff', async () => {
    const { client, events } = retryRig({ initialBackoff: '0.001s', maxBackoff: '0.001s' });
    const start = Date.now();
    const reply = await unary(client, { fail_code: Status.UNAVAILABLE, fail_attempts: 1, pushback_ms: '300' });
    const elapsed = since(start);
    expect(reply.attempt).toBe(1);
    expect(events.backoffs).toEqual([{ method: '/switchyard.demo.Echo/Unary', nextAttempt: 2, delayMs: 300, pushback: true }]);
    // The retry waited at least the pushback (from the call's start, which also covers the first attempt).
    expect(elapsed).toBeGreaterThanOrEqual(300);
  });

  it.each([['-1'], ['abc'], ['']])('does not retry on the pushback %j', async (pushback) => {
    const { client, channel } = retryRig();
    // An empty string is not sent by the echo server (no trailer): that case retries, as a control.
    const outcome = await unaryOutcome(client, { fail_code: Status.UNAVAILABLE, fail_attempts: 1, pushback_ms: pushback });
    if (pushback === '') {
      expect(outcome.status.code).toBe(Status.OK);
      expect(channel.stats().retries).toBe(1);
    } else {
      expect(outcome.status.code).toBe(Status.UNAVAILABLE);
      expect(server.stats().methods.Unary.calls).toBe(1);
      expect(channel.stats().retries).toBe(0);
    }
  });
});

describe('retry policy, streaming calls', () => {
  it('retries a server-streaming call that failed before any response', async () => {
    const { client } = retryRig();
    const replies = await serverStream(client, { message: 's', response_count: 3, fail_code: Status.UNAVAILABLE, fail_attempts: 2 });
    expect(replies.map((x) => [x.message, x.attempt])).toEqual([['s', 2], ['s', 2], ['s', 2]]);
    expect(server.stats().methods.ServerStream.calls).toBe(3);
  });

  it('does not retry a server stream that already delivered a message', async () => {
    const { client, events, settled } = retryRig();
    const error = (await serverStream(client, { message: 's', fail_code: Status.UNAVAILABLE, fail_after_headers: true }).then(
      () => undefined,
      (e: StreamError) => e,
    ))!;
    expect(error.code).toBe(Status.UNAVAILABLE);
    expect(error.replies.map((x) => x.message)).toEqual(['s']);
    expect(server.stats().methods.ServerStream.calls).toBe(1);
    await settled();
    expect(events.commits.map((e) => e.reason)).toEqual(['headers']);
  });

  it('replays every buffered message of a client-streaming call on the retry', async () => {
    const { client } = retryRig();
    const reply = await clientStream(client, [
      { message: 'a', fail_code: Status.UNAVAILABLE, fail_attempts: 2 },
      { message: 'b' },
      { message: 'c' },
      { message: 'd' },
    ]);
    expect(reply.message).toBe('a,b,c,d');
    expect(reply.attempt).toBe(2);
    expect(server.stats().methods.ClientStream.calls).toBe(3);
  });

  it('replays the messages of a bidi call that failed before answering', async () => {
    const { client } = retryRig();
    const replies = await bidi(client, [
      { message: 'a', fail_code: Status.UNAVAILABLE, fail_attempts: 1 },
      { message: 'b' },
      { message: 'c' },
    ]);
    expect(replies.map((x) => [x.message, x.attempt])).toEqual([['a', 1], ['b', 1], ['c', 1]]);
  });
});

describe('retry buffer limit (perCallRetryBufferBytes)', () => {
  it('commits a unary call whose request does not fit, and then never retries it', async () => {
    const { client, events, settled } = retryRig({}, { perCallRetryBufferBytes: 1024 });
    const outcome = await unaryOutcome(client, { message: 'x'.repeat(2000), fail_code: Status.UNAVAILABLE, fail_attempts: 1 });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
    expect(server.stats().methods.Unary.calls).toBe(1);
    await settled();
    expect(events.commits.map((e) => e.reason)).toEqual(['buffer-limit']);
  });

  it('still retries a call whose messages fit', async () => {
    const { client } = retryRig({}, { perCallRetryBufferBytes: 1024 });
    const reply = await unary(client, { message: 'x'.repeat(500), fail_code: Status.UNAVAILABLE, fail_attempts: 1 });
    expect(reply.attempt).toBe(1);
  });

  it('commits a client stream when a later message overflows the buffer', async () => {
    const { client, events, settled } = retryRig({}, { perCallRetryBufferBytes: 1024 });
    const error = await clientStream(client, [
      { message: 'a', fail_code: Status.UNAVAILABLE, fail_attempts: 1 },
      { message: 'b'.repeat(600) },
      { message: 'c'.repeat(600) },
    ]).then(() => undefined, (e: { code: number }) => e);
    expect(error?.code).toBe(Status.UNAVAILABLE);
    expect(server.stats().methods.ClientStream.calls).toBe(1);
    await settled();
    expect(events.commits.map((e) => e.reason)).toEqual(['buffer-limit']);
  });
});

describe('channel close', () => {
  it('ends a call that is waiting in backoff', async () => {
    const rg = retryRig({ initialBackoff: '0.3s', maxBackoff: '0.3s' });
    const outcome = unaryOutcome(rg.client, { fail_code: Status.UNAVAILABLE });
    await waitFor(() => rg.events.backoffs.length === 1, 'the first backoff');
    rg.channel.close();
    expect((await outcome).status.code).toBe(Status.UNAVAILABLE);
    expect(server.stats().methods.Unary.calls).toBe(1);
  });
});

describe('events and stats', () => {
  it('counts match the events over a mix of calls', async () => {
    const { client, channel, events, settled } = retryRig({ maxAttempts: 3 });
    await unary(client, { message: 'ok' });
    await unary(client, { fail_code: Status.UNAVAILABLE, fail_attempts: 2 });
    await unaryOutcome(client, { fail_code: Status.UNAVAILABLE });
    await unaryOutcome(client, { fail_code: Status.NOT_FOUND });
    await settled();
    const stats = channel.stats();
    expect(stats).toMatchObject({ calls: 4, succeeded: 2, failed: 2, attempts: 1 + 3 + 3 + 1, retries: 4, hedges: 0, transparentRetries: 0 });
    expect(events.attempts.length).toBe(stats.attempts);
    expect(events.attempts.filter((e) => e.kind === 'retry').length).toBe(stats.retries);
    expect(events.backoffs.length).toBe(stats.retries);
    // One committed attempt per call, and one commit event per call.
    expect(events.attempts.filter((e) => e.committed).length).toBe(stats.calls);
    expect(events.commits.length).toBe(stats.calls);
    expect(stats.tokens).toBeUndefined();
  });
});
