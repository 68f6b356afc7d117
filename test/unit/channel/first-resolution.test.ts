/**
 * Calls started before the channel's first resolver result wait for it and use the service config it
 * brings (gRPC: the method config is chosen once the first resolution is in); after a resolver error
 * the default applies; gRFC A21's "invalid config and no default" still fails them. A scripted
 * resolver and a policy whose picker fails every pick: no network, fake timers.
 */
import * as grpc from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChannel, registerLoadBalancingPolicy, type SwitchyardChannel, type SwitchyardChannelOptions } from '../../../src/index';
import type { AttemptEvent } from '../../../src/call/events';
import { createScript, endpointsOf, type Script } from '../../helpers/scripted-resolver';

const { TRANSIENT_FAILURE } = grpc.connectivityState;
const identity = (buffer: Buffer): Buffer => buffer;

registerLoadBalancingPolicy({
  name: 'first_resolution_failing',
  parseConfig: () => ({}),
  create: (helper) => {
    const picker = { pick: () => ({ type: 'fail' as const, status: { code: grpc.status.UNAVAILABLE, details: 'no backend' } }) };
    return {
      updateEndpoints: () => helper.updateState(TRANSIENT_FAILURE, picker, 'no backend'),
      resolverError: (error) => helper.updateState(TRANSIENT_FAILURE, { pick: () => ({ type: 'fail', status: { code: grpc.status.UNAVAILABLE, details: error } }) }, error),
      exitIdle: () => {},
      close: () => {},
    };
  },
});

const failing = [{ first_resolution_failing: {} }];
const retryTwice = {
  methodConfig: [{
    name: [{ service: 'test.Svc' }],
    retryPolicy: { maxAttempts: 2, initialBackoff: '0.01s', maxBackoff: '0.01s', backoffMultiplier: 1, retryableStatusCodes: ['UNAVAILABLE'] },
  }],
};

let clock: sinon.SinonFakeTimers;
let channel: SwitchyardChannel | undefined;

beforeEach(() => {
  clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  channel?.close();
  channel = undefined;
  clock.restore();
});

/** A channel on `script`, its `attempt` events, and a way to start unary calls on it. */
function open(script: Script, options: SwitchyardChannelOptions = {}) {
  const ch = createChannel(script.target, grpc.credentials.createInsecure(), options);
  channel = ch;
  const attempts: AttemptEvent[] = [];
  ch.events.on('attempt', (event) => attempts.push(event));
  const client = new grpc.Client(script.target, grpc.credentials.createInsecure(), { channelOverride: ch });
  const call = (): Promise<grpc.ServiceError | null> =>
    new Promise((resolve) => client.makeUnaryRequest('/test.Svc/Get', identity, identity, Buffer.from('x'), (error) => resolve(error)));
  return { channel: ch, attempts, call };
}

describe('calls started before the first resolution', () => {
  // Guards the wait: a call that took the channel's (empty) default config at start, as before, makes
  // one attempt instead of two, and ignores the retry policy the resolver then returned.
  it('use the retry policy of the service config the first resolution returns', async () => {
    const script = createScript();
    const { attempts, call } = open(script);
    const outcome = call();
    await clock.tickAsync(0);
    expect(script.requests).toBe(1);
    expect(attempts).toEqual([]);
    script.update({ endpoints: endpointsOf('127.0.0.1:1'), serviceConfig: { loadBalancingConfig: failing, ...retryTwice } });
    await clock.tickAsync(100);
    expect((await outcome)?.code).toBe(grpc.status.UNAVAILABLE);
    expect(attempts.map((a) => [a.attempt, a.kind])).toEqual([[1, 'initial'], [2, 'retry']]);
  });

  it('use the default config after a resolver error', async () => {
    const script = createScript();
    const { attempts, call } = open(script, { serviceConfig: retryTwice });
    const outcome = call();
    await clock.tickAsync(0);
    script.fail('lookup failed');
    await clock.tickAsync(100);
    const error = await outcome;
    expect(error).toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining('name resolution failed: lookup failed') });
    expect(attempts.map((a) => a.kind)).toEqual(['initial', 'retry']);
  });

  it('start at once when the resolver answers synchronously', async () => {
    const script = createScript();
    script.answer = { endpoints: endpointsOf('127.0.0.1:1'), serviceConfig: { loadBalancingConfig: failing, ...retryTwice } };
    const { attempts, call } = open(script);
    const outcome = call();
    await clock.tickAsync(100);
    expect((await outcome)?.code).toBe(grpc.status.UNAVAILABLE);
    expect(attempts.map((a) => a.kind)).toEqual(['initial', 'retry']);
  });

  // gRFC A21 (docs/discovery.md): no good config yet and no default → the channel is TRANSIENT_FAILURE.
  it('fail when the first config is invalid and the channel has no default', async () => {
    const script = createScript();
    const { channel: ch, attempts, call } = open(script);
    const outcome = call();
    await clock.tickAsync(0);
    script.update({ endpoints: endpointsOf('127.0.0.1:1'), serviceConfig: { methodConfig: [{ name: [{ method: 'NoService' }] }] } });
    await clock.tickAsync(0);
    expect(await outcome).toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining('invalid service config from the resolver') });
    expect(ch.getConnectivityState(false)).toBe(TRANSIENT_FAILURE);
    expect(attempts).toHaveLength(1);
  });

  it('end on their deadline while they wait, and with UNAVAILABLE when the channel closes', async () => {
    const script = createScript();
    const { channel: ch } = open(script);
    const client = new grpc.Client(script.target, grpc.credentials.createInsecure(), { channelOverride: ch });
    const timed = new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest('/test.Svc/Get', identity, identity, Buffer.from('x'), { deadline: Date.now() + 500 }, (error) => resolve(error)));
    const waiting = new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest('/test.Svc/Get', identity, identity, Buffer.from('x'), (error) => resolve(error)));
    await clock.tickAsync(500);
    expect((await timed)?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    ch.close();
    await clock.tickAsync(0);
    expect(await waiting).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'Channel closed' });
    expect(ch.stats()).toMatchObject({ calls: 2, failed: 2, deadlineExceeded: 1 });
  });
});
