/**
 * ResilientCall under a hedging policy (gRFC A6 "Hedging Policy"), driven by a fake channel side and
 * sinon fake timers.
 */
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeHost, flush, hedgingPolicy, startCall, Status, throttle } from '../../helpers/call-fakes';

let clock: sinon.SinonFakeTimers;
let host: FakeHost;

beforeEach(() => {
  clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  host = new FakeHost();
  host.config = { hedgingPolicy: hedgingPolicy() };
});
afterEach(() => {
  clock.restore();
});

describe('hedging', () => {
  it('sends one more attempt every hedgingDelay, to distinct subchannels, up to maxAttempts', async () => {
    startCall(host);
    expect(host.calls).toHaveLength(1);
    await clock.tickAsync(99);
    expect(host.calls).toHaveLength(1);
    await clock.tickAsync(1);
    expect(host.calls).toHaveLength(2);
    await clock.tickAsync(100);
    expect(host.calls).toHaveLength(3);
    await clock.tickAsync(1_000);
    expect(host.calls).toHaveLength(3);
    // maxAttempts reached: no hedge timer is left.
    expect(clock.countTimers()).toBe(0);
  });

  it('replays the request to each hedge and tags it with grpc-previous-rpc-attempts', async () => {
    startCall(host);
    await clock.tickAsync(200);
    await flush();
    expect(host.calls.map((c) => c.subchannel.key)).toEqual(['127.0.0.1:1001', '127.0.0.1:1002', '127.0.0.1:1003']);
    expect(host.calls.map((c) => c.previousAttempts)).toEqual([undefined, '1', '2']);
    for (const c of host.calls) {
      expect(c.writes.map((w) => w.message.toString())).toEqual(['request']);
      expect(c.halfClosed).toBe(true);
      expect(c.reads).toBe(1);
    }
  });

  it('the first response wins: the others are cancelled and no more hedges are sent', async () => {
    const { listener } = startCall(host);
    await clock.tickAsync(100);
    const [first, second] = host.calls;
    second!.respondHeaders();
    expect(first!.cancelled).toMatchObject({ code: Status.CANCELLED });
    expect(host.recorded.commits).toEqual([expect.objectContaining({ attempt: 2, endpoint: '127.0.0.1:1002', reason: 'headers' })]);
    expect(clock.countTimers()).toBe(0);
    second!.respondMessage('won');
    second!.end(Status.OK, 'OK');
    await flush();
    expect(listener.messages).toEqual(['won']);
    expect(listener.status.code).toBe(Status.OK);
    // One attempt event per attempt: the winner's (committed) and the loser's (CANCELLED).
    expect(host.recorded.attempts.map((e) => [e.attempt, e.kind, e.code, e.committed])).toEqual([
      [2, 'hedge', Status.OK, true],
      [1, 'initial', Status.CANCELLED, false],
    ]);
    expect(host.counters).toMatchObject({ attempts: 2, hedges: 1, succeeded: 1 });
  });

  it('hedgingDelay 0 sends every attempt at once', () => {
    host.config = { hedgingPolicy: hedgingPolicy({ hedgingDelayMs: 0 }) };
    startCall(host);
    expect(host.calls).toHaveLength(3);
    expect(clock.countTimers()).toBe(0);
  });

  it('a fatal code ends the call and cancels the other attempts', async () => {
    const { listener } = startCall(host);
    await clock.tickAsync(100);
    host.calls[1]!.end(Status.INVALID_ARGUMENT, 'fatal');
    expect(listener.status).toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'fatal' });
    expect(host.calls[0]!.cancelled).toBeDefined();
    expect(clock.countTimers()).toBe(0);
  });

  it('a non-fatal code sends the next hedge at once, and later ones hedgingDelay after it', async () => {
    startCall(host);
    await clock.tickAsync(30);
    host.calls[0]!.end(Status.UNAVAILABLE, 'non-fatal');
    expect(host.calls).toHaveLength(2);
    await clock.tickAsync(99);
    expect(host.calls).toHaveLength(2);
    await clock.tickAsync(1);
    expect(host.calls).toHaveLength(3);
  });

  it('when every attempt failed non-fatally, the call ends with the last failure', async () => {
    const { listener } = startCall(host);
    await clock.tickAsync(200);
    host.calls[0]!.end(Status.UNAVAILABLE, 'one');
    host.calls[2]!.end(Status.UNAVAILABLE, 'three');
    expect(listener.statuses).toEqual([]);
    host.calls[1]!.end(Status.UNAVAILABLE, 'two');
    expect(listener.status).toMatchObject({ code: Status.UNAVAILABLE, details: 'two' });
    expect(host.recorded.attempts.map((e) => e.attempt)).toEqual([1, 3, 2]);
    expect(host.recorded.commits).toEqual([expect.objectContaining({ attempt: 2, reason: 'status' })]);
  });

  it('a pushback delays the next hedge by exactly that long', async () => {
    host.config = { hedgingPolicy: hedgingPolicy({ hedgingDelayMs: 1_000 }) };
    startCall(host);
    host.calls[0]!.end(Status.UNAVAILABLE, '', { 'grpc-retry-pushback-ms': '300' });
    await clock.tickAsync(299);
    expect(host.calls).toHaveLength(1);
    await clock.tickAsync(1);
    expect(host.calls).toHaveLength(2);
    await clock.tickAsync(1_000);
    expect(host.calls).toHaveLength(3);
  });

  it('a "do not retry" pushback stops hedging; the attempts in flight may still win', async () => {
    const { listener } = startCall(host);
    await clock.tickAsync(100);
    host.calls[0]!.end(Status.UNAVAILABLE, 'stop', { 'grpc-retry-pushback-ms': 'never' });
    await clock.tickAsync(1_000);
    expect(host.calls).toHaveLength(2);
    host.calls[1]!.respondHeaders();
    host.calls[1]!.end(Status.OK);
    expect(listener.status.code).toBe(Status.OK);
  });

  it('a throttled hedge is not sent, and ends hedging for the call', async () => {
    host.throttle = throttle(10);
    for (let i = 0; i < 5; i++) host.throttle.recordFailure();
    const { listener } = startCall(host);
    await clock.tickAsync(1_000);
    expect(host.calls).toHaveLength(1);
    expect(host.recorded.throttled).toEqual([{ method: '/test.Svc/Method', kind: 'hedge', tokens: 5 }]);
    expect(clock.countTimers()).toBe(0);
    host.calls[0]!.end(Status.UNAVAILABLE, 'alone');
    expect(listener.status.details).toBe('alone');
    expect(host.throttle.tokens).toBe(4);
  });

  it('never exceeds maxAttempts, even with hedges waiting for a pick', async () => {
    host.pickResult = () => ({ type: 'queue' });
    startCall(host);
    await clock.tickAsync(1_000);
    expect(host.calls).toHaveLength(0);
    host.publishPicker();
    expect(host.calls.map((c) => c.previousAttempts)).toEqual([undefined, '1', '2']);
  });
});
