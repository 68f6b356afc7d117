/**
 * The pick's load-feedback hook (`PickComplete.onAttemptEnded`): the call layer calls it exactly once
 * per pick that returned it — when the attempt ends, or at once when the pick could not be used — so a
 * policy's in-flight counts (gRFC A48), call results (A50) and per-call ORCA reports (A51) balance.
 * Removing the call in `onAttemptStatus` or in the not-READY branch of `startAttempt` fails these tests.
 */
import { connectivityState, type status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PickComplete } from '../../../src/picker/types';
import { FakeHost, flush, retryPolicy, startCall, Status } from '../../helpers/call-fakes';

let clock: sinon.SinonFakeTimers;
let host: FakeHost;
let ended: Array<{ code: status; pushback: string | undefined; elapsedMs: number }>;

beforeEach(() => {
  clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  host = new FakeHost();
  ended = [];
  const results: PickComplete[] = host.subchannels.map((subchannel) => ({
    type: 'complete',
    subchannel,
    onAttemptEnded: (code, trailers, elapsedMs) =>
      ended.push({ code, pushback: trailers?.get('grpc-retry-pushback-ms')[0] as string | undefined, elapsedMs }),
  }));
  let next = 0;
  host.pickResult = () => results[next++ % results.length]!;
});
afterEach(() => clock.restore());

describe('onAttemptEnded', () => {
  it('hears the end of the attempt with its code, trailers and the time since the pick', async () => {
    startCall(host);
    clock.tick(25);
    host.last().end(Status.OK, '', { 'grpc-retry-pushback-ms': '7' });
    await flush();
    expect(ended).toEqual([{ code: Status.OK, pushback: '7', elapsedMs: 25 }]);
  });

  it('hears every attempt of a retried call once', async () => {
    host.config = { retryPolicy: retryPolicy() };
    const { listener } = startCall(host);
    host.last().end(Status.UNAVAILABLE);
    await flush();
    await clock.tickAsync(200);
    host.last().end(Status.OK);
    await flush();
    expect(listener.status.code).toBe(Status.OK);
    expect(ended.map((e) => e.code)).toEqual([Status.UNAVAILABLE, Status.OK]);
  });

  it('hears at once about a pick the call could not use (subchannel no longer READY)', () => {
    host.subchannels[0]!.state = connectivityState.IDLE;
    startCall(host);
    expect(host.calls).toHaveLength(0);
    expect(ended).toEqual([{ code: Status.UNAVAILABLE, pushback: undefined, elapsedMs: 0 }]);
  });

  it('hears the cancelled attempt of a call ended by its deadline', async () => {
    startCall(host, { deadline: Date.now() + 100 });
    await clock.tickAsync(100);
    await flush();
    expect(ended).toHaveLength(1);
    expect(ended[0]!.code).not.toBe(Status.OK);
  });
});
