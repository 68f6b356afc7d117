/**
 * ResilientCall commit rules and retry buffer (gRFC A6 "Buffering" and "When Retries are Valid"), with a
 * fake channel side and fake timers.
 */
import { Metadata } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeHost, flush, retryPolicy, startCall, Status } from '../../helpers/call-fakes';

let clock: sinon.SinonFakeTimers;
let host: FakeHost;

beforeEach(() => {
  clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  host = new FakeHost();
  host.config = { retryPolicy: retryPolicy() };
});
afterEach(() => {
  clock.restore();
});

describe('commit', () => {
  it('commits on response headers: a later failure is not retried', async () => {
    const { listener } = startCall(host);
    const attempt = host.last();
    attempt.respondHeaders(new Metadata());
    expect(host.recorded.commits).toEqual([{ method: '/test.Svc/Method', attempt: 1, endpoint: '127.0.0.1:1001', reason: 'headers' }]);
    expect(listener.headers).toHaveLength(1);
    attempt.end(Status.UNAVAILABLE, 'after headers');
    await clock.tickAsync(10_000);
    expect(host.calls).toHaveLength(1);
    expect(listener.status).toMatchObject({ code: Status.UNAVAILABLE, details: 'after headers' });
    expect(host.recorded.attempts).toEqual([expect.objectContaining({ attempt: 1, committed: true, code: Status.UNAVAILABLE })]);
  });

  it('commits on a response message that came without headers', () => {
    const { listener } = startCall(host);
    host.last().respondMessage('reply');
    expect(host.recorded.commits.map((e) => e.reason)).toEqual(['message']);
    expect(listener.messages).toEqual(['reply']);
  });

  it('commits on a final status that is not retried', () => {
    const { listener } = startCall(host);
    host.last().end(Status.NOT_FOUND, 'nope');
    expect(host.recorded.commits.map((e) => e.reason)).toEqual(['status']);
    expect(listener.status.code).toBe(Status.NOT_FOUND);
  });

  it('delivers nothing from an attempt before it commits, and nothing from losers after', async () => {
    host.config = { retryPolicy: retryPolicy() };
    const { listener } = startCall(host);
    host.last().end(Status.UNAVAILABLE, 'first');
    expect(listener.statuses).toEqual([]);
    await clock.tickAsync(100);
    host.last().respondHeaders();
    host.last().respondMessage('ok');
    host.last().end(Status.OK, 'OK');
    expect(listener.messages).toEqual(['ok']);
    expect(listener.status.code).toBe(Status.OK);
  });
});

describe('retry buffer', () => {
  it('replays every buffered message to the retry, one write at a time, then half-closes', async () => {
    const { call } = startCall(host, { unary: false });
    for (const m of ['a', 'b', 'c']) call.sendMessageWithContext({}, Buffer.from(m));
    call.halfClose();
    call.startRead();
    await flush();
    const first = host.last();
    expect(first.writes.map((w) => w.message.toString())).toEqual(['a', 'b', 'c']);
    first.end(Status.UNAVAILABLE);
    await clock.tickAsync(100);
    const retry = host.last();
    expect(retry).not.toBe(first);
    retry.autoCompleteWrites = false;
    // Writes were already passed down before the switch: complete them by hand from here on.
    await flush();
    for (let i = 0; i < 5; i++) {
      retry.completeWrites();
      await flush();
    }
    expect(retry.writes.map((w) => w.message.toString())).toEqual(['a', 'b', 'c']);
    expect(retry.halfClosed).toBe(true);
    expect(retry.writesAfterHalfClose).toBe(0);
    expect(retry.reads).toBe(1);
  });

  it('passes the next message down only after the previous write completed', async () => {
    host.subchannels[0]!.createStream = ((orig) =>
      function (this: unknown, ...args: Parameters<typeof orig>) {
        const c = orig.apply(host.subchannels[0], args);
        (c as unknown as { autoCompleteWrites: boolean }).autoCompleteWrites = false;
        return c;
      })(host.subchannels[0]!.createStream.bind(host.subchannels[0]));
    const { call } = startCall(host, { unary: false });
    call.sendMessageWithContext({}, Buffer.from('a'));
    call.sendMessageWithContext({}, Buffer.from('b'));
    call.halfClose();
    const attempt = host.last();
    expect(attempt.writes.map((w) => w.message.toString())).toEqual(['a']);
    expect(attempt.halfClosed).toBe(false);
    attempt.completeWrites();
    expect(attempt.writes.map((w) => w.message.toString())).toEqual(['a', 'b']);
    // The half-close follows the last message without waiting for its write (grpc-js orders them).
    expect(attempt.halfClosed).toBe(true);
  });

  it('completes the caller\'s writes as soon as a message is buffered', async () => {
    const { call } = startCall(host, { unary: false });
    let written = 0;
    call.sendMessageWithContext({ callback: () => written++ }, Buffer.from('a'));
    await flush();
    expect(written).toBe(1);
  });

  it('a message past the per-call limit commits the call to the attempt in flight', async () => {
    const { call, listener } = startCall(host, { unary: false });
    call.sendMessageWithContext({}, Buffer.alloc(600));
    expect(host.retryBudget.bytesInUse).toBe(600);
    let written = 0;
    call.sendMessageWithContext({ callback: () => written++ }, Buffer.alloc(600));
    expect(host.recorded.commits.map((e) => e.reason)).toEqual(['buffer-limit']);
    // Committed: the buffer is released, and the caller's write completes with the attempt's write.
    expect(host.retryBudget.bytesInUse).toBe(0);
    await flush();
    expect(written).toBe(1);
    expect(host.last().writes).toHaveLength(2);
    host.last().end(Status.UNAVAILABLE);
    await clock.tickAsync(10_000);
    expect(host.calls).toHaveLength(1);
    expect(listener.status.code).toBe(Status.UNAVAILABLE);
  });

  it('a message that does not fit while no attempt is in flight commits the next attempt', async () => {
    host.pickResult = () => ({ type: 'queue' });
    const { call, listener } = startCall(host, { unary: false });
    let written = 0;
    call.sendMessageWithContext({ callback: () => written++ }, Buffer.alloc(2000));
    call.halfClose();
    await flush();
    // Held until an attempt can carry it: the writer waits.
    expect(written).toBe(0);
    host.publishPicker();
    const attempt = host.last();
    expect(host.recorded.commits).toEqual([expect.objectContaining({ attempt: 1, reason: 'buffer-limit' })]);
    await flush();
    expect(written).toBe(1);
    expect(attempt.writes.map((w) => w.message.length)).toEqual([2000]);
    expect(attempt.halfClosed).toBe(true);
    attempt.end(Status.UNAVAILABLE);
    await clock.tickAsync(10_000);
    expect(host.calls).toHaveLength(1);
    expect(listener.status.code).toBe(Status.UNAVAILABLE);
  });

  it('the per-channel limit counts every call', () => {
    // 1000 bytes each fit the 1024-byte per-call limit; the fifth call would take the channel past 4096.
    const calls = Array.from({ length: 5 }, () => startCall(host, { unary: false }).call);
    for (const call of calls.slice(0, 4)) call.sendMessageWithContext({}, Buffer.alloc(1000));
    expect(host.retryBudget.bytesInUse).toBe(4000);
    expect(host.recorded.commits).toEqual([]);
    calls[4]!.sendMessageWithContext({}, Buffer.alloc(1000));
    expect(host.recorded.commits).toEqual([expect.objectContaining({ reason: 'buffer-limit' })]);
    expect(host.retryBudget.bytesInUse).toBe(4000);
    for (const call of calls) call.cancelWithStatus(Status.CANCELLED, 'done');
    expect(host.retryBudget.bytesInUse).toBe(0);
  });

  it('releases the buffer when the call ends', async () => {
    const { call } = startCall(host, { unary: false });
    call.sendMessageWithContext({}, Buffer.alloc(500));
    expect(host.retryBudget.bytesInUse).toBe(500);
    host.last().end(Status.OK);
    expect(host.retryBudget.bytesInUse).toBe(0);
  });
});
