/**
 * ResilientCall picks, transparent retries (gRFC A6 "Transparent Retries"), deadline and cancellation in
 * every phase, with a fake channel side and sinon fake timers. After every call ends, no timer is left.
 */
import { Metadata, connectivityState } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { propagateDeadlines, runWithDeadline } from '../../../src/deadline/context';
import { FakeHost, flush, hedgingPolicy, retryPolicy, startCall, Status, throttle } from '../../helpers/call-fakes';

let clock: sinon.SinonFakeTimers;
let host: FakeHost;

beforeEach(() => {
  clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  host = new FakeHost();
});
afterEach(() => {
  clock.restore();
});

describe('picks', () => {
  it('a queued pick waits for the next picker', () => {
    host.pickResult = () => ({ type: 'queue' });
    startCall(host);
    expect(host.calls).toHaveLength(0);
    expect(host.queued.size).toBe(1);
    host.publishPicker();
    expect(host.calls).toHaveLength(1);
    expect(host.queued.size).toBe(0);
  });

  it('a picked subchannel that is no longer READY is not used: the call waits for the next picker', () => {
    // The picker still offers the first subchannel, which has just lost its connection.
    host.subchannels[0]!.state = connectivityState.IDLE;
    startCall(host);
    expect(host.calls).toHaveLength(0);
    expect(host.queued.size).toBe(1);
    host.publishPicker();
    expect(host.calls.map((c) => c.subchannel.key)).toEqual(['127.0.0.1:1002']);
    expect(host.counters.attempts).toBe(1);
  });

  it('a shut-down subchannel (channel closed under a stale picker) fails the attempt instead of waiting', async () => {
    host.subchannels[0]!.state = connectivityState.SHUTDOWN;
    const { listener } = startCall(host);
    expect(host.queued.size).toBe(0);
    await flush();
    expect(listener.status).toMatchObject({ code: Status.UNAVAILABLE, details: 'fake-target: 127.0.0.1:1001 is shut down' });
  });

  it('a failed pick fails a call without a policy with UNAVAILABLE, asynchronously', async () => {
    host.pickResult = () => ({ type: 'fail', status: { code: Status.UNAVAILABLE, details: 'connect ECONNREFUSED' } });
    const { listener } = startCall(host);
    expect(listener.statuses).toEqual([]);
    await flush();
    expect(listener.status).toMatchObject({ code: Status.UNAVAILABLE, details: 'fake-target: connect ECONNREFUSED' });
    expect(host.recorded.attempts).toEqual([expect.objectContaining({ attempt: 1, endpoint: '', committed: true })]);
  });

  it('a failed pick is a failed attempt the retry policy retries', async () => {
    host.config = { retryPolicy: retryPolicy() };
    host.pickResult = () => ({ type: 'fail', status: { code: Status.UNAVAILABLE, details: 'down' } });
    const { listener } = startCall(host);
    await flush();
    expect(host.recorded.backoffs).toHaveLength(1);
    host.pickResult = undefined;
    await clock.tickAsync(100);
    expect(host.last().previousAttempts).toBe('1');
    host.last().end(Status.OK);
    expect(listener.status.code).toBe(Status.OK);
  });

  it('a wait-for-ready call (method config, or the call\'s own option) waits out a failing picker', () => {
    host.pickResult = () => ({ type: 'fail', status: { code: Status.UNAVAILABLE, details: 'down' } });
    host.config = { waitForReady: true };
    startCall(host);
    expect(host.queued.size).toBe(1);
    host.config = undefined;
    startCall(host, { metadata: new Metadata({ waitForReady: true }) });
    expect(host.queued.size).toBe(2);
    // The call's explicit false beats the method config's true.
    host.config = { waitForReady: true };
    startCall(host, { metadata: new Metadata({ waitForReady: false }) });
    expect(host.queued.size).toBe(2);
  });

  it('a dropped pick ends the call, never retried', async () => {
    host.config = { retryPolicy: retryPolicy() };
    host.pickResult = () => ({ type: 'drop', status: { code: Status.UNAVAILABLE, details: 'dropped' } });
    const { listener } = startCall(host);
    await flush();
    expect(listener.status).toMatchObject({ code: Status.UNAVAILABLE, details: 'dropped' });
    await clock.tickAsync(10_000);
    expect(host.picks).toBe(1);
    expect(clock.countTimers()).toBe(0);
  });
});

describe('transparent retries (progress marked by grpc-js)', () => {
  it('an attempt that never left the client is retried at once, without counting as an attempt', async () => {
    host.config = { retryPolicy: retryPolicy({ maxAttempts: 2 }) };
    const { listener } = startCall(host);
    host.last().end(Status.UNAVAILABLE, 'not started', {}, 'NOT_STARTED');
    host.last().end(Status.UNAVAILABLE, 'not started', {}, 'NOT_STARTED');
    expect(host.calls).toHaveLength(3);
    expect(host.calls.map((c) => c.previousAttempts)).toEqual([undefined, undefined, undefined]);
    expect(host.recorded.attempts.map((e) => [e.attempt, e.kind])).toEqual([[1, 'initial'], [1, 'transparent']]);
    // maxAttempts 2 still allows one real retry.
    host.last().end(Status.UNAVAILABLE, 'processed');
    await clock.tickAsync(100);
    expect(host.last().previousAttempts).toBe('1');
    host.last().end(Status.OK);
    expect(listener.status.code).toBe(Status.OK);
    expect(host.counters).toMatchObject({ attempts: 4, transparentRetries: 2, retries: 1 });
  });

  it('a refused stream is retried once, even without a policy', () => {
    const { listener } = startCall(host);
    host.last().end(Status.UNAVAILABLE, 'refused', {}, 'REFUSED');
    expect(host.calls).toHaveLength(2);
    host.last().end(Status.UNAVAILABLE, 'refused again', {}, 'REFUSED');
    expect(host.calls).toHaveLength(2);
    expect(listener.status.details).toBe('refused again');
  });

  it('leaves the throttle alone', () => {
    host.config = { retryPolicy: retryPolicy() };
    host.throttle = throttle(10);
    startCall(host);
    host.last().end(Status.UNAVAILABLE, '', {}, 'NOT_STARTED');
    expect(host.throttle!.tokens).toBe(10);
  });
});

describe('retry throttling of a call without a policy (gRFC A6: every RPC counts)', () => {
  // Breaking it (only calls with a policy touch the bucket, as before) leaves the tokens at 5.
  it('a success refills the bucket, a "do not retry" pushback costs a token, other failures nothing', async () => {
    host.throttle = throttle(10, 0.5);
    for (let i = 0; i < 5; i++) host.throttle.recordFailure();
    startCall(host);
    host.last().end(Status.OK);
    expect(host.throttle.tokens).toBe(5.5);
    startCall(host);
    host.last().end(Status.UNAVAILABLE);
    expect(host.throttle.tokens).toBe(5.5);
    startCall(host);
    host.last().end(Status.UNAVAILABLE, '', { 'grpc-retry-pushback-ms': '-1' });
    expect(host.throttle.tokens).toBe(4.5);
    // Committed by its headers first: counted all the same.
    startCall(host);
    host.last().respondHeaders();
    host.last().end(Status.OK);
    expect(host.throttle.tokens).toBe(5);
  });
});

describe('cancellation', () => {
  it('while waiting for a pick: unqueued, CANCELLED on the next tick, no timer left', async () => {
    host.pickResult = () => ({ type: 'queue' });
    const { call, listener } = startCall(host, { deadline: Date.now() + 5_000 });
    call.cancelWithStatus(Status.CANCELLED, 'Cancelled on client');
    expect(listener.statuses).toEqual([]);
    await flush();
    expect(listener.status).toMatchObject({ code: Status.CANCELLED, details: 'Cancelled on client' });
    expect(host.queued.size).toBe(0);
    expect(clock.countTimers()).toBe(0);
  });

  it('during a backoff: the retry timer is cleared', async () => {
    host.config = { retryPolicy: retryPolicy() };
    const { call, listener } = startCall(host);
    host.last().end(Status.UNAVAILABLE);
    expect(clock.countTimers()).toBe(1);
    call.cancelWithStatus(Status.CANCELLED, 'bye');
    expect(clock.countTimers()).toBe(0);
    await clock.tickAsync(10_000);
    expect(host.calls).toHaveLength(1);
    expect(listener.status.code).toBe(Status.CANCELLED);
  });

  it('in flight: the attempt is cancelled and its late status is only reported as an event', async () => {
    const { call, listener } = startCall(host);
    call.cancelWithStatus(Status.CANCELLED, 'bye');
    expect(host.last().cancelled).toEqual({ code: Status.CANCELLED, details: 'bye' });
    await flush();
    expect(listener.status.code).toBe(Status.CANCELLED);
    expect(host.recorded.attempts).toEqual([expect.objectContaining({ code: Status.CANCELLED, committed: false })]);
    expect(host.counters).toMatchObject({ failed: 1, succeeded: 0 });
  });

  it('while hedged: every attempt is cancelled and the hedge timer cleared', async () => {
    host.config = { hedgingPolicy: hedgingPolicy() };
    const { call, listener } = startCall(host);
    await clock.tickAsync(100);
    call.cancelWithStatus(Status.CANCELLED, 'bye');
    expect(host.calls.map((c) => c.cancelled?.code)).toEqual([Status.CANCELLED, Status.CANCELLED]);
    expect(clock.countTimers()).toBe(0);
    await clock.tickAsync(1_000);
    expect(host.calls).toHaveLength(2);
    expect(listener.statuses).toHaveLength(1);
  });

  it('inherits the propagated context deadline', async () => {
    const deadline = Date.now() + 300;
    const { listener } = runWithDeadline(deadline, () => startCall(host));
    expect(host.last().deadline).toBe(deadline);
    await clock.tickAsync(300);
    await flush();
    expect(listener.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(clock.countTimers()).toBe(0);
  });

  it('with the incoming call (propagateDeadlines), and at once when that is already cancelled', async () => {
    const incoming = Object.assign(new EventEmitter(), { getDeadline: () => Date.now() + 10_000 });
    const started: Array<ReturnType<typeof startCall>> = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const handlers = propagateDeadlines({
      Unary(_call: unknown, _callback: unknown) {
        started.push(startCall(host));
        // (Sinon's fake setTimeout does not carry AsyncLocalStorage; a promise does, as real timers do.)
        void gate.then(() => started.push(startCall(host)));
      },
    });
    (handlers.Unary as (call: unknown, callback: () => void) => void)(incoming, () => {});
    expect(host.last().deadline).toBe(Date.now() + 10_000);
    incoming.emit('cancelled');
    await flush();
    expect(started[0]!.listener.status).toMatchObject({ code: Status.CANCELLED, details: 'Cancelled by the incoming call' });
    expect(host.calls[0]!.cancelled).toBeDefined();
    // A call the handler starts after the cancellation fails at once, without any attempt.
    open();
    await flush();
    expect(started[1]!.listener.status.code).toBe(Status.CANCELLED);
    expect(host.calls).toHaveLength(1);
    expect(clock.countTimers()).toBe(0);
  });
});

describe('deadline', () => {
  // Guards "an attempt cut off by the deadline ends DEADLINE_EXCEEDED": cancelling it as CANCELLED
  // (as before) fails the cancel code, the `attempt` event and the pick's load-feedback assertions.
  it('ends an attempt in flight with DEADLINE_EXCEEDED and cancels it with that code', async () => {
    const feedback: number[] = [];
    host.pickResult = () => ({ type: 'complete', subchannel: host.subchannels[0]!, onAttemptEnded: (code) => feedback.push(code) });
    const { listener } = startCall(host, { deadline: Date.now() + 500 });
    await clock.tickAsync(500);
    await flush();
    expect(listener.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(host.last().cancelled?.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(host.recorded.attempts.map((a) => a.code)).toEqual([Status.DEADLINE_EXCEEDED]);
    expect(feedback).toEqual([Status.DEADLINE_EXCEEDED]);
    expect(host.counters.deadlineExceeded).toBe(1);
    expect(clock.countTimers()).toBe(0);
  });

  it('a cancelled call still cancels its attempt as CANCELLED', async () => {
    const { call, listener } = startCall(host);
    call.cancelWithStatus(Status.CANCELLED, 'by the application');
    await flush();
    expect(listener.status.code).toBe(Status.CANCELLED);
    expect(host.last().cancelled?.code).toBe(Status.CANCELLED);
    expect(host.counters.deadlineExceeded).toBe(0);
  });

  it('a deadline already past fails the call without any attempt', async () => {
    const { listener } = startCall(host, { deadline: Date.now() - 1 });
    await flush();
    expect(listener.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(host.picks).toBe(0);
  });

  it('reports exactly one status, whatever races', async () => {
    host.config = { hedgingPolicy: hedgingPolicy({ hedgingDelayMs: 0 }) };
    const { call, listener } = startCall(host, { deadline: Date.now() + 100 });
    host.calls[0]!.respondHeaders();
    host.calls[0]!.end(Status.OK);
    call.cancelWithStatus(Status.CANCELLED, 'late');
    await clock.tickAsync(1_000);
    for (const c of host.calls) c.end(Status.UNAVAILABLE);
    await flush();
    expect(listener.statuses.map((s) => s.code)).toEqual([Status.OK]);
    expect(host.recorded.attempts).toHaveLength(3);
    expect(clock.countTimers()).toBe(0);
  });
});

describe('a deadline propagated from the incoming call', () => {
  /** A grpc-js server call as `parent` sees it: its deadline, and 'cancelled' when it ends early. */
  function incomingCall(deadline: number) {
    return Object.assign(new EventEmitter(), { getDeadline: () => deadline });
  }

  // Guards "a propagated deadline ends DEADLINE_EXCEEDED": treating the parent's 'cancelled' as a
  // cancellation (as before) reports CANCELLED and leaves stats().deadlineExceeded at 0.
  it('grpc-js parent: its cancellation at the deadline it passed on is DEADLINE_EXCEEDED, counted', async () => {
    const parent = incomingCall(Date.now() + 200);
    const { listener } = startCall(host, { parent: parent as never });
    // grpc-js's server timer may fire a little before Date.now() reaches the deadline.
    await clock.tickAsync(195);
    parent.emit('cancelled');
    await flush();
    expect(listener.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(host.last().cancelled?.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(host.counters.deadlineExceeded).toBe(1);
    expect(clock.countTimers()).toBe(0);
  });

  it('propagateDeadlines: the context cancelled by the incoming deadline is DEADLINE_EXCEEDED', async () => {
    const incoming = incomingCall(Date.now() + 300);
    let started!: ReturnType<typeof startCall>;
    const handlers = propagateDeadlines({
      Unary(_call: unknown, _callback: unknown) {
        started = startCall(host);
      },
    });
    (handlers.Unary as (call: unknown, callback: () => void) => void)(incoming, () => {});
    await clock.tickAsync(300);
    incoming.emit('cancelled');
    await flush();
    expect(started.listener.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(host.counters.deadlineExceeded).toBe(1);
  });

  it('a cancellation well before the deadline stays CANCELLED', async () => {
    const parent = incomingCall(Date.now() + 10_000);
    const { listener } = startCall(host, { parent: parent as never });
    await clock.tickAsync(100);
    parent.emit('cancelled');
    await flush();
    expect(listener.status).toMatchObject({ code: Status.CANCELLED, details: 'Cancelled by the parent call' });
    expect(host.counters.deadlineExceeded).toBe(0);
  });
});

describe('a call started before the first resolution', () => {
  // Guards "calls wait for the first resolver result and its service config": a call that took the
  // config at start (as before) picks at once and never retries, failing every assertion below.
  it('waits without picking, then uses the method config the resolution brought', async () => {
    host.config = null;
    const { listener } = startCall(host);
    expect(host.picks).toBe(0);
    expect(host.queued.size).toBe(1);
    host.config = { retryPolicy: retryPolicy({ maxAttempts: 2 }) };
    host.publishPicker();
    expect(host.calls).toHaveLength(1);
    // The request sent while waiting went out with the first attempt.
    expect(host.last().writes.map((w) => w.message.toString())).toEqual(['request']);
    host.last().end(Status.UNAVAILABLE);
    await clock.tickAsync(200);
    expect(host.calls).toHaveLength(2);
    host.last().end(Status.OK);
    await flush();
    expect(listener.status.code).toBe(Status.OK);
  });

  it('applies the method timeout from its own start, and its deadline while it waits', async () => {
    host.config = null;
    const early = startCall(host, { deadline: Date.now() + 400 });
    const timedOut = startCall(host);
    await clock.tickAsync(300);
    host.config = { timeoutMs: 500 };
    host.publishPicker();
    await clock.tickAsync(100);
    await flush();
    expect(early.listener.status.code).toBe(Status.DEADLINE_EXCEEDED); // its own deadline, earlier
    expect(timedOut.listener.statuses).toHaveLength(0);
    await clock.tickAsync(100);
    await flush();
    expect(timedOut.listener.status.code).toBe(Status.DEADLINE_EXCEEDED); // 500 ms after its start
    host.config = null;
    const waiting = startCall(host, { deadline: Date.now() + 100 });
    await clock.tickAsync(100);
    await flush();
    expect(waiting.listener.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(host.queued.size).toBe(0);
    expect(host.picks).toBe(2);
    expect(clock.countTimers()).toBe(0);
  });
});

describe('write callbacks', () => {
  // Guards "write callbacks always complete": a write after the end (dropped before) or one queued on an
  // attempt that is cancelled would never call back, and a grpc-js writer stalls before 'finish'.
  it('complete after the call ended, and for writes queued on a cancelled attempt', async () => {
    const { call } = startCall(host, { unary: false });
    host.last().respondHeaders(); // committed: later writes go to this attempt with their callbacks
    host.last().autoCompleteWrites = false;
    const done: number[] = [];
    for (let i = 0; i < 3; i++) call.sendMessageWithContext({ callback: () => done.push(i) }, Buffer.from(`m${i}`));
    call.cancelWithStatus(Status.CANCELLED, 'stop');
    call.sendMessageWithContext({ callback: () => done.push(3) }, Buffer.from('late'));
    await flush();
    expect(done.sort()).toEqual([0, 1, 2, 3]);
  });

  it('complete for a message too large for the method config', async () => {
    host.config = { maxRequestMessageBytes: 2 };
    const { call, listener } = startCall(host, { unary: false });
    let called = false;
    call.sendMessageWithContext({ callback: () => (called = true) }, Buffer.from('too large'));
    await flush();
    expect(called).toBe(true);
    expect(listener.status.code).toBe(Status.RESOURCE_EXHAUSTED);
  });
});
