/**
 * The call layer's side of `PickComplete.onAttemptEnded` (AttemptEndedHook in src/picker/types.ts):
 * called exactly once per pick that returned it — when the attempt ends, with its code, trailers and
 * the ms since the pick, or at once with UNAVAILABLE when the pick could not be used.
 */
import { Metadata, connectivityState, status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AttemptEndedHook, PickComplete } from '../../../src/picker/types';
import { FakeHost, flush, hedgingPolicy, startCall } from '../call-fakes';

let clock: sinon.SinonFakeTimers;
let host: FakeHost;
let ended: Array<{ code: status; trailers: Metadata | undefined; elapsedMs: number; key: string }>;

/** Picks round-robin like the fake host, each result carrying a hook that records its subchannel. */
function pickWithHook(): void {
  let next = 0;
  const results = host.subchannels.map((subchannel): PickComplete => {
    const hook: AttemptEndedHook = (code, trailers, elapsedMs) => ended.push({ code, trailers, elapsedMs, key: subchannel.key });
    return { type: 'complete', subchannel, onAttemptEnded: hook };
  });
  host.pickResult = () => results[next++ % results.length]!;
}

beforeEach(() => {
  clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  host = new FakeHost();
  ended = [];
  pickWithHook();
});
afterEach(() => clock.restore());

describe('AttemptEndedHook in the call layer', () => {
  // Without the wiring, `ended` stays empty in every test.
  it('runs once when the attempt ends, with its status code, its trailers and the ms since the pick', () => {
    startCall(host);
    clock.tick(42);
    expect(ended).toEqual([]);
    host.calls[0]!.end(status.OK, '', { 'x-load': 'x' });
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ code: status.OK, elapsedMs: 42, key: '127.0.0.1:1001' });
    expect(ended[0]!.trailers?.get('x-load')).toEqual(['x']);
  });

  it('runs at once with UNAVAILABLE when the picked subchannel is no longer READY, and again for the next pick', () => {
    host.subchannels[0]!.state = connectivityState.IDLE;
    startCall(host);
    expect(ended).toEqual([{ code: status.UNAVAILABLE, trailers: undefined, elapsedMs: 0, key: '127.0.0.1:1001' }]);
    host.publishPicker(true);
    host.calls[0]!.end(status.INTERNAL);
    expect(ended.map((e) => [e.key, e.code])).toEqual([
      ['127.0.0.1:1001', status.UNAVAILABLE],
      ['127.0.0.1:1002', status.INTERNAL],
    ]);
  });

  it('runs for a hedge cancelled by the winner, with CANCELLED', async () => {
    host.config = { hedgingPolicy: hedgingPolicy() };
    startCall(host);
    clock.tick(100);
    expect(host.calls).toHaveLength(2);
    host.calls[1]!.respondHeaders();
    host.calls[1]!.end(status.OK);
    await flush();
    expect(ended.map((e) => [e.key, e.code]).sort()).toEqual([
      ['127.0.0.1:1001', status.CANCELLED],
      ['127.0.0.1:1002', status.OK],
    ]);
  });
});
