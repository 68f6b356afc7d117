import * as grpc from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChannel, registerLoadBalancingPolicy, registerResolver, type Picker } from '../../../src/index';

const { IDLE, CONNECTING, READY, SHUTDOWN } = grpc.connectivityState;

// A resolver and a policy that touch no network, to watch the channel's own state machine.
const created: string[] = [];
const closed: string[] = [];
registerResolver({
  scheme: 'idle-test',
  defaultAuthority: (target) => target.path,
  create(target, listener) {
    created.push(target.path);
    return {
      requestResolution: () => queueMicrotask(() => listener.onUpdate({ endpoints: [{ addresses: [{ host: '127.0.0.1', port: 1 }] }] })),
      close: () => closed.push(target.path),
    };
  },
});
const failing: Picker = { pick: () => ({ type: 'fail', status: { code: grpc.status.UNAVAILABLE, details: 'test policy' } }) };
registerLoadBalancingPolicy({
  name: 'idle_test_policy',
  parseConfig: () => ({}),
  create: (helper) => ({
    updateEndpoints: () => helper.updateState(READY, failing),
    resolverError: () => {},
    exitIdle: () => {},
    close: () => closed.push('policy'),
  }),
});

describe('channel idle timeout (gRFC A62)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    created.length = 0;
    closed.length = 0;
  });
  afterEach(() => clock.restore());

  it('starts IDLE, connects on tryToConnect, and drops resolver and policy after the idle period', async () => {
    const channel = createChannel('idle-test:a', grpc.credentials.createInsecure(), {
      idleTimeoutMs: 1_000,
      serviceConfig: { loadBalancingConfig: [{ idle_test_policy: {} }] },
    });
    expect(channel.getConnectivityState(false)).toBe(IDLE);
    expect(channel.getConnectivityState(true)).toBe(CONNECTING);
    await Promise.resolve();
    expect(channel.getConnectivityState(false)).toBe(READY);
    await clock.tickAsync(999);
    expect(channel.getConnectivityState(false)).toBe(READY);
    // First check only records the call count; the second finds no activity.
    await clock.tickAsync(1_001);
    expect(channel.getConnectivityState(false)).toBe(IDLE);
    expect(closed).toEqual(['a', 'policy']);
    expect(created).toEqual(['a', 'a']);
    expect(channel.getConnectivityState(true)).toBe(CONNECTING);
    await Promise.resolve();
    expect(channel.getConnectivityState(false)).toBe(READY);
    channel.close();
    expect(channel.getConnectivityState(false)).toBe(SHUTDOWN);
    expect(clock.countTimers()).toBe(0);
  });

  it('idleTimeoutMs 0 never idles', async () => {
    const channel = createChannel('idle-test:b', grpc.credentials.createInsecure(), {
      idleTimeoutMs: 0,
      serviceConfig: { loadBalancingConfig: [{ idle_test_policy: {} }] },
    });
    channel.getConnectivityState(true);
    await Promise.resolve();
    await clock.tickAsync(3_600_000);
    expect(channel.getConnectivityState(false)).toBe(READY);
    channel.close();
  });

  it('watchConnectivityState fires on change and errors at its deadline', async () => {
    const channel = createChannel('idle-test:c', grpc.credentials.createInsecure(), {
      serviceConfig: { loadBalancingConfig: [{ idle_test_policy: {} }] },
    });
    const changes: Array<Error | undefined> = [];
    channel.watchConnectivityState(IDLE, Date.now() + 10_000, (error) => changes.push(error));
    channel.getConnectivityState(true);
    await clock.tickAsync(0);
    expect(changes).toEqual([undefined]);
    const timedOut: Array<Error | undefined> = [];
    channel.watchConnectivityState(channel.getConnectivityState(false), Date.now() + 100, (error) => timedOut.push(error));
    await clock.tickAsync(100);
    expect(timedOut).toHaveLength(1);
    expect(timedOut[0]?.message).toBe('Deadline passed without connectivity state change');
    channel.close();
    expect(() => channel.watchConnectivityState(SHUTDOWN, Infinity, () => {})).toThrow('Channel has been shut down');
  });
});
