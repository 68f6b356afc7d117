import { connectivityState, status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors';
import { interleaveAddressFamilies } from '../../../src/picker/interleave';
import { createPickFirstPolicy, parsePickFirstConfig } from '../../../src/picker/pick-first';
import type { LoadBalancingPolicy, PickResult } from '../../../src/picker/types';
import { addressKey } from '../../../src/resolver/address';
import type { Endpoint } from '../../../src/resolver/types';
import { createFakeHelper, endpoints, parseAddress, pickArgs, type FakeHelper } from '../../helpers/fake-subchannel';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE } = connectivityState;
const A = '127.0.0.1:1001';
const B = '127.0.0.2:1002';
const C = '127.0.0.3:1003';
const D = '127.0.0.4:1004';

describe('parsePickFirstConfig', () => {
  it('accepts an empty object and a boolean shuffleAddressList, ignoring unknown fields', () => {
    expect(parsePickFirstConfig({}, 'p')).toEqual({ shuffleAddressList: false });
    expect(parsePickFirstConfig({ shuffleAddressList: true, other: 1 }, 'p')).toEqual({ shuffleAddressList: true });
  });

  it('rejects a non-object', () => {
    for (const bad of [null, 3, 'x', []]) {
      expect(() => parsePickFirstConfig(bad, 'loadBalancingConfig[0].pick_first')).toThrow(ConfigError);
    }
    expect(() => parsePickFirstConfig(null, 'loadBalancingConfig[0].pick_first')).toThrow(
      /^loadBalancingConfig\[0\]\.pick_first: must be an object/,
    );
  });

  it('names the field of a non-boolean shuffleAddressList', () => {
    try {
      parsePickFirstConfig({ shuffleAddressList: 'yes' }, 'loadBalancingConfig[0].pick_first');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).path).toBe('loadBalancingConfig[0].pick_first.shuffleAddressList');
      expect((error as ConfigError).rule).toBe('must be a boolean');
    }
  });
});

describe('interleaveAddressFamilies (RFC 8305 section 4)', () => {
  const keys = (list: string[]): string[] => interleaveAddressFamilies(list.map(parseAddress)).map(addressKey);

  it('alternates families starting with the family of the first address', () => {
    expect(keys(['[::1]:1', '[::2]:1', '127.0.0.1:1', '127.0.0.2:1'])).toEqual([
      '[::1]:1',
      '127.0.0.1:1',
      '[::2]:1',
      '127.0.0.2:1',
    ]);
    expect(keys(['127.0.0.1:1', '[::1]:1', '[::2]:1', '[::3]:1'])).toEqual([
      '127.0.0.1:1',
      '[::1]:1',
      '[::2]:1',
      '[::3]:1',
    ]);
  });

  it('keeps a single-family list as is', () => {
    expect(keys(['127.0.0.2:1', '127.0.0.1:1'])).toEqual(['127.0.0.2:1', '127.0.0.1:1']);
  });
});

describe('pick_first', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeHelper;
  let policy: LoadBalancingPolicy;

  function start(options: { random?: () => number } = {}): void {
    fake = createFakeHelper({ random: options.random });
    policy = createPickFirstPolicy(fake.helper);
  }

  function pick(): PickResult {
    return fake.last().picker.pick(pickArgs());
  }

  function expectAllReleased(): void {
    expect(fake.released).toBe(fake.acquired);
    for (const [key, count] of fake.refs) expect(count, key).toBe(0);
    for (const sc of fake.subchannels.values()) expect(sc.listenerCount, sc.key).toBe(0);
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    start();
  });

  afterEach(() => {
    policy.close();
    expectAllReleased();
    expect(clock.countTimers()).toBe(0);
    clock.restore();
  });

  it('connects to the first address and reports CONNECTING with a queueing picker', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    expect(fake.last().state).toBe(CONNECTING);
    expect(pick()).toEqual({ type: 'queue' });
    expect(fake.sub(A).connectCalls).toBe(1);
    expect(fake.sub(B).connectCalls).toBe(0);
    expect(fake.sub(C).connectCalls).toBe(0);
  });

  it('starts the next address every 250 ms without cancelling earlier attempts', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    clock.tick(249);
    expect(fake.sub(B).connectCalls).toBe(0);
    clock.tick(1);
    expect(fake.sub(B).getState()).toBe(CONNECTING);
    expect(fake.sub(A).getState()).toBe(CONNECTING);
    expect(fake.refs.get(A)).toBe(1);
    clock.tick(250);
    expect(fake.sub(C).getState()).toBe(CONNECTING);
    expect(fake.refs.get(A)).toBe(1);
    expect(fake.refs.get(B)).toBe(1);
    expect(clock.countTimers()).toBe(0); // no timer after the last address
    expect(fake.updates.map((u) => u.state)).toEqual([CONNECTING]);
  });

  it('uses helper.connectionAttemptDelayMs', () => {
    fake = createFakeHelper({ connectionAttemptDelayMs: 1000 });
    policy = createPickFirstPolicy(fake.helper);
    policy.updateEndpoints(endpoints(A, B), {});
    clock.tick(999);
    expect(fake.sub(B).connectCalls).toBe(0);
    clock.tick(1);
    expect(fake.sub(B).connectCalls).toBe(1);
  });

  it('selects the first READY subchannel and releases the others', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    clock.tick(500);
    fake.sub(B).ready();
    expect(fake.last().state).toBe(READY);
    const first = pick();
    expect(first).toEqual({ type: 'complete', subchannel: fake.sub(B) });
    expect(pick()).toBe(first); // preallocated
    expect(fake.refs.get(A)).toBe(0);
    expect(fake.refs.get(C)).toBe(0);
    expect(fake.refs.get(B)).toBe(1);
    expect(clock.countTimers()).toBe(0);
    // A late READY of a released subchannel changes nothing.
    const count = fake.updates.length;
    fake.sub(A).ready();
    expect(fake.updates.length).toBe(count);
  });

  it('moves on to the next address at once when the current attempt fails', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    fake.sub(A).fail();
    expect(fake.sub(B).connectCalls).toBe(1);
    clock.tick(100);
    fake.sub(B).fail();
    expect(fake.sub(C).connectCalls).toBe(1);
    expect(fake.last().state).toBe(CONNECTING);
  });

  it('reports TRANSIENT_FAILURE only after every address failed, and re-resolves', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    clock.tick(500); // all three in flight
    fake.sub(A).fail();
    fake.sub(C).fail();
    expect(fake.last().state).toBe(CONNECTING);
    expect(fake.reresolutions).toBe(0);
    fake.sub(B).fail('connect ECONNREFUSED 127.0.0.2:1002');
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    expect(fake.reresolutions).toBe(1);
    const result = pick();
    expect(result.type).toBe('fail');
    if (result.type !== 'fail') return;
    expect(result.status.code).toBe(status.UNAVAILABLE);
    expect(result.status.details).toContain('connect ECONNREFUSED 127.0.0.2:1002');
  });

  it('stays in TRANSIENT_FAILURE while subchannels reconnect after backoff, until one is READY (sticky)', () => {
    policy.updateEndpoints(endpoints(A, B), {});
    fake.sub(A).fail();
    fake.sub(B).fail();
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    const updates = fake.updates.length;
    fake.sub(A).idle(); // backoff over
    expect(fake.sub(A).connectCalls).toBe(2);
    expect(fake.sub(A).getState()).toBe(CONNECTING);
    expect(fake.updates.length).toBe(updates); // no CONNECTING report
    fake.sub(A).fail('second failure');
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    const result = pick();
    expect(result.type === 'fail' && result.status.details).toContain('second failure');
    fake.sub(B).idle();
    expect(fake.sub(B).connectCalls).toBe(2);
    fake.sub(B).ready();
    expect(fake.last().state).toBe(READY);
    expect(pick()).toEqual({ type: 'complete', subchannel: fake.sub(B) });
    expect(fake.refs.get(A)).toBe(0);
  });

  it('reconnects subchannels that were already IDLE when the first pass completed', () => {
    policy.updateEndpoints(endpoints(A, B), {});
    fake.sub(A).fail();
    fake.sub(A).idle(); // backoff ended during the pass: not reconnected yet
    expect(fake.sub(A).connectCalls).toBe(1);
    fake.sub(B).fail();
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    expect(fake.sub(A).connectCalls).toBe(2);
  });

  it('skips an address whose shared subchannel is in backoff, and takes one that is already READY', () => {
    const shared = fake.helper.createSubchannel(parseAddress(A)) as ReturnType<FakeHelper['sub']>;
    shared.connect();
    shared.fail();
    policy.updateEndpoints(endpoints(A, B), {});
    expect(fake.sub(B).connectCalls).toBe(1); // A counted as failed at once
    fake.helper.releaseSubchannel(shared);

    const other = createFakeHelper();
    const ready = other.helper.createSubchannel(parseAddress(C)) as ReturnType<FakeHelper['sub']>;
    ready.connect();
    ready.ready();
    const second = createPickFirstPolicy(other.helper);
    second.updateEndpoints(endpoints(D, C), {});
    expect(other.last().state).toBe(READY);
    expect(other.last().picker.pick(pickArgs())).toEqual({ type: 'complete', subchannel: ready });
    second.close();
    other.helper.releaseSubchannel(ready);
    expect(other.released).toBe(other.acquired);
  });

  it('interleaves IPv6 and IPv4 addresses in connection order', () => {
    policy.updateEndpoints(endpoints('[::1]:1', '[::2]:1', '127.0.0.1:1', '127.0.0.2:1'), {});
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      for (const sc of fake.subchannels.values()) {
        if (sc.connectCalls > 0 && !order.includes(sc.key)) order.push(sc.key);
      }
      clock.tick(250);
    }
    expect(order).toEqual(['[::1]:1', '127.0.0.1:1', '[::2]:1', '127.0.0.2:1']);
  });

  it('dedupes addresses and flattens multi-address endpoints in order', () => {
    const list: Endpoint[] = [
      { addresses: [parseAddress(A), parseAddress(B)] },
      { addresses: [parseAddress(A), parseAddress(C)] },
    ];
    policy.updateEndpoints(list, {});
    expect(fake.acquired).toBe(3);
    clock.tick(250);
    expect(fake.sub(B).connectCalls).toBe(1);
    expect(fake.sub(C).connectCalls).toBe(0);
  });

  it('shuffles endpoints when shuffleAddressList is set, keeping addresses inside an endpoint in order', () => {
    start({ random: () => 0 }); // Fisher–Yates with 0 rotates: [e1, e2] -> [e2, e1]
    const list: Endpoint[] = [
      { addresses: [parseAddress(A)] },
      { addresses: [parseAddress(B), parseAddress(C)] },
    ];
    policy.updateEndpoints(list, parsePickFirstConfig({ shuffleAddressList: true }, 'p'));
    expect(fake.sub(B).connectCalls).toBe(1);
    expect(fake.sub(A).connectCalls).toBe(0);
    fake.sub(B).fail();
    expect(fake.sub(C).connectCalls).toBe(1);
    expect(fake.sub(A).connectCalls).toBe(0);
  });

  it('does not re-resolve for a pass that fails at once (every address in backoff), so a static resolver cannot loop', () => {
    policy.updateEndpoints(endpoints(A, B), {});
    fake.sub(A).fail();
    fake.sub(B).fail();
    expect(fake.reresolutions).toBe(1);
    // A static resolver answers the request with the same list, while both are still in backoff.
    for (let i = 0; i < 5; i++) policy.updateEndpoints(endpoints(A, B), {});
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    expect(fake.reresolutions).toBe(1);
    // Each later round in which every address failed again asks once more.
    fake.sub(A).idle();
    fake.sub(A).fail();
    expect(fake.reresolutions).toBe(1);
    fake.sub(B).idle();
    fake.sub(B).fail();
    expect(fake.reresolutions).toBe(2);
    fake.sub(A).idle();
    fake.sub(A).fail();
    fake.sub(B).idle();
    fake.sub(B).fail();
    expect(fake.reresolutions).toBe(3);
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
  });

  it('shuffles two endpoints into both orders across updates', () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const helper = createFakeHelper({ random: Math.random });
      const p = createPickFirstPolicy(helper.helper);
      p.updateEndpoints(endpoints(A, B), { shuffleAddressList: true });
      for (const sc of helper.subchannels.values()) if (sc.connectCalls > 0) firsts.add(sc.key);
      p.close();
      expect(helper.released).toBe(helper.acquired);
    }
    expect(firsts).toEqual(new Set([A, B]));
  });

  it('does not shuffle without the option', () => {
    start({ random: () => 0 });
    policy.updateEndpoints(endpoints(A, B), undefined);
    expect(fake.sub(A).connectCalls).toBe(1);
    expect(fake.sub(B).connectCalls).toBe(0);
  });

  it('goes IDLE and re-resolves when the selected connection is lost; the next pick reconnects', () => {
    policy.updateEndpoints(endpoints(A, B), {});
    fake.sub(A).ready();
    fake.sub(A).idle();
    expect(fake.last().state).toBe(IDLE);
    expect(fake.reresolutions).toBe(1);
    expect(fake.refs.get(A)).toBe(0);
    expect(pick()).toEqual({ type: 'queue' });
    expect(pick()).toEqual({ type: 'queue' });
    expect(fake.sub(A).connectCalls).toBe(1); // exitIdle runs in a microtask, not inside pick()
    clock.runMicrotasks(); // sinon fakes queueMicrotask
    expect(fake.last().state).toBe(CONNECTING);
    expect(fake.sub(A).connectCalls).toBe(2);
    fake.sub(A).ready();
    expect(fake.last().state).toBe(READY);
  });

  it('exitIdle is a no-op unless IDLE', () => {
    policy.updateEndpoints(endpoints(A), {});
    policy.exitIdle();
    expect(fake.sub(A).connectCalls).toBe(1);
    expect(fake.updates.length).toBe(1);
  });

  it('keeps the selected connection when a new list still contains its address', () => {
    policy.updateEndpoints(endpoints(A, B), {});
    fake.sub(B).ready();
    const updates = fake.updates.length;
    const acquired = fake.acquired;
    policy.updateEndpoints(endpoints(C, B, D), {});
    expect(fake.updates.length).toBe(updates);
    expect(fake.acquired).toBe(acquired);
    expect(fake.refs.get(B)).toBe(1);
    expect(pick()).toEqual({ type: 'complete', subchannel: fake.sub(B) });
  });

  it('drops the selected connection and starts over when a new list does not contain it', () => {
    policy.updateEndpoints(endpoints(A), {});
    fake.sub(A).ready();
    policy.updateEndpoints(endpoints(C, D), {});
    expect(fake.refs.get(A)).toBe(0);
    expect(fake.last().state).toBe(CONNECTING);
    expect(fake.sub(C).connectCalls).toBe(1);
  });

  it('reuses subchannels of kept addresses when a list arrives mid-pass', () => {
    policy.updateEndpoints(endpoints(A, B), {});
    policy.updateEndpoints(endpoints(B, C), {});
    expect(fake.refs.get(A)).toBe(0);
    expect(fake.refs.get(B)).toBe(1);
    expect(fake.acquired).toBe(3);
    expect(fake.sub(B).connectCalls).toBe(1);
  });

  it('stays in TRANSIENT_FAILURE when a new list arrives after all addresses failed', () => {
    policy.updateEndpoints(endpoints(A), {});
    fake.sub(A).fail();
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    policy.updateEndpoints(endpoints(B), {});
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    expect(fake.sub(B).connectCalls).toBe(1);
    fake.sub(B).ready();
    expect(fake.last().state).toBe(READY);
  });

  it('reports TRANSIENT_FAILURE for an empty list and for a resolver error without addresses', () => {
    policy.resolverError('DNS lookup failed: ENOTFOUND');
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    const first = pick();
    expect(first.type === 'fail' && first.status).toEqual({
      code: status.UNAVAILABLE,
      details: 'DNS lookup failed: ENOTFOUND',
    });
    policy.updateEndpoints([], {});
    const second = pick();
    expect(second.type === 'fail' && second.status.details).toBe('resolver returned no addresses');
    policy.updateEndpoints(endpoints(A), {});
    const count = fake.updates.length;
    policy.resolverError('ignored');
    expect(fake.updates.length).toBe(count);
  });

  it('releases every subchannel and cancels its timer on close, and ignores calls after it', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    clock.tick(250);
    policy.close();
    expectAllReleased();
    expect(clock.countTimers()).toBe(0);
    policy.updateEndpoints(endpoints(D), {});
    policy.exitIdle();
    expect(fake.subchannels.has(D)).toBe(false);
  });
});
