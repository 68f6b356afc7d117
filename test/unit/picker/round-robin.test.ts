import { connectivityState, status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors';
import { createRoundRobinPolicy, parseRoundRobinConfig } from '../../../src/picker/round-robin';
import { roundRobinPicker } from '../../../src/picker/round-robin-picker';
import { completePick } from '../../../src/picker/pickers';
import type { LoadBalancingPolicy, PickResult, Subchannel } from '../../../src/picker/types';
import type { Endpoint } from '../../../src/resolver/types';
import {
  FakeSubchannel,
  createFakeHelper,
  endpoints,
  parseAddress,
  pickArgs,
  type FakeHelper,
} from '../../helpers/fake-subchannel';

const { CONNECTING, READY, TRANSIENT_FAILURE } = connectivityState;
const A = '127.0.0.1:1001';
const B = '127.0.0.2:1002';
const C = '127.0.0.3:1003';
const D = '127.0.0.4:1004';

describe('parseRoundRobinConfig', () => {
  it('accepts any object and rejects anything else', () => {
    expect(parseRoundRobinConfig({}, 'p')).toEqual({});
    expect(parseRoundRobinConfig({ anything: 1 }, 'p')).toEqual({});
    for (const bad of [null, 1, 'x', [], true]) {
      expect(() => parseRoundRobinConfig(bad, 'loadBalancingConfig[1].round_robin')).toThrow(ConfigError);
    }
    expect(() => parseRoundRobinConfig(7, 'loadBalancingConfig[1].round_robin')).toThrow(
      'loadBalancingConfig[1].round_robin: must be an object, got 7',
    );
  });
});

describe('roundRobinPicker', () => {
  const subs = [A, B, C].map((t) => new FakeSubchannel(parseAddress(t)));
  const results = subs.map(completePick);

  it('starts at the given index and wraps', () => {
    const picker = roundRobinPicker(results, 2);
    const picked = Array.from({ length: 4 }, () => picker.pick(pickArgs()));
    expect(picked).toEqual([results[2], results[0], results[1], results[2]]);
  });

  it('avoids subchannels of earlier attempts, within a bounded number of steps', () => {
    const picker = roundRobinPicker(results, 0);
    const previous: Subchannel[] = [subs[0] as Subchannel, subs[1] as Subchannel];
    for (let i = 0; i < 10; i++) expect(picker.pick(pickArgs(previous))).toBe(results[2]);
    // Every subchannel used before: it still returns one (bounded loop, no infinite search).
    const all = roundRobinPicker(results, 0);
    expect(results).toContain(all.pick(pickArgs([...subs])));
  });

  it('with one subchannel, returns it even if used before', () => {
    const picker = roundRobinPicker([results[0]!], 0);
    expect(picker.pick(pickArgs([subs[0]!]))).toBe(results[0]);
  });
});

describe('round_robin', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeHelper;
  let policy: LoadBalancingPolicy;

  function start(random: () => number = () => 0): void {
    fake = createFakeHelper({ random });
    policy = createRoundRobinPolicy(fake.helper);
  }

  function picks(count: number, previous?: readonly Subchannel[]): PickResult[] {
    const picker = fake.last().picker;
    const args = pickArgs(previous);
    return Array.from({ length: count }, () => picker.pick(args));
  }

  function spread(results: PickResult[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of results) {
      const key = r.type === 'complete' ? r.subchannel.key : r.type;
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    start();
  });

  afterEach(() => {
    policy.close();
    expect(fake.released).toBe(fake.acquired);
    for (const [key, count] of fake.refs) expect(count, key).toBe(0);
    for (const sc of fake.subchannels.values()) expect(sc.listenerCount, sc.key).toBe(0);
    expect(clock.countTimers()).toBe(0);
    clock.restore();
  });

  it('connects to every address and reports CONNECTING with a queueing picker', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    for (const key of [A, B, C]) expect(fake.sub(key).connectCalls).toBe(1);
    expect(fake.last().state).toBe(CONNECTING);
    expect(picks(1)).toEqual([{ type: 'queue' }]);
  });

  it('flattens multi-address endpoints and dedupes addresses', () => {
    const list: Endpoint[] = [
      { addresses: [parseAddress(A), parseAddress(B)] },
      { addresses: [parseAddress(B), parseAddress(C)] },
    ];
    policy.updateEndpoints(list, {});
    expect(fake.acquired).toBe(3);
  });

  it('spreads picks exactly evenly over READY subchannels', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    for (const key of [A, B, C]) fake.sub(key).ready();
    expect(fake.last().state).toBe(READY);
    expect(spread(picks(3000))).toEqual({ [A]: 1000, [B]: 1000, [C]: 1000 });
  });

  it('only picks READY subchannels', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    fake.sub(A).ready();
    fake.sub(C).ready();
    expect(spread(picks(100))).toEqual({ [A]: 50, [C]: 50 });
    fake.sub(B).fail();
    expect(spread(picks(100))).toEqual({ [A]: 50, [C]: 50 });
    fake.sub(A).idle();
    expect(spread(picks(10))).toEqual({ [C]: 10 });
  });

  it('starts each new picker at a random index', () => {
    for (const [random, first] of [
      [0, A],
      [0.4, B],
      [0.99, C],
    ] as const) {
      start(() => random);
      policy.updateEndpoints(endpoints(A, B, C), {});
      for (const key of [A, B, C]) fake.sub(key).ready();
      const [result] = picks(1);
      expect(result?.type === 'complete' && result.subchannel.key).toBe(first);
      policy.close();
    }
  });

  it('returns the same preallocated object for a subchannel on every pick and across pickers', () => {
    policy.updateEndpoints(endpoints(A, B), {});
    fake.sub(A).ready();
    const [first] = picks(1);
    expect(picks(5).every((r) => r === first)).toBe(true);
    fake.sub(B).ready(); // new picker
    const again = picks(4).filter((r) => r.type === 'complete' && r.subchannel.key === A);
    expect(again).toHaveLength(2);
    expect(again.every((r) => r === first)).toBe(true);
  });

  it('prefers a subchannel that earlier attempts of the call did not use', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    for (const key of [A, B, C]) fake.sub(key).ready();
    const previous = [fake.sub(A), fake.sub(C)];
    expect(spread(picks(30, previous))).toEqual({ [B]: 30 });
  });

  it('reconnects a subchannel as soon as it goes IDLE, and re-resolves when a READY one is lost', () => {
    policy.updateEndpoints(endpoints(A, B), {});
    fake.sub(A).ready();
    fake.sub(A).idle();
    expect(fake.sub(A).connectCalls).toBe(2);
    expect(fake.sub(A).getState()).toBe(CONNECTING);
    expect(fake.reresolutions).toBe(1);
    expect(fake.last().state).toBe(CONNECTING);
  });

  it('reports TRANSIENT_FAILURE naming the last error only when every child failed, and stays there (sticky per child)', () => {
    policy.updateEndpoints(endpoints(A, B), {});
    fake.sub(A).fail('connect ECONNREFUSED 127.0.0.1:1001');
    expect(fake.last().state).toBe(CONNECTING);
    expect(fake.reresolutions).toBe(1);
    fake.sub(B).fail('connect ETIMEDOUT 127.0.0.2:1002');
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    expect(fake.reresolutions).toBe(2);
    const [result] = picks(1);
    expect(result?.type).toBe('fail');
    if (result?.type !== 'fail') return;
    expect(result.status.code).toBe(status.UNAVAILABLE);
    expect(result.status.details).toContain('ETIMEDOUT 127.0.0.2:1002');

    const updates = fake.updates.length;
    fake.sub(A).idle(); // backoff over: reconnects, still counts as failed
    expect(fake.sub(A).connectCalls).toBe(2);
    expect(fake.sub(A).getState()).toBe(CONNECTING);
    expect(fake.updates.length).toBe(updates);
    fake.sub(A).ready();
    expect(fake.last().state).toBe(READY);
    expect(spread(picks(4))).toEqual({ [A]: 4 });
  });

  it('keeps subchannels whose address stays across updates and releases the others', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    for (const key of [A, B, C]) fake.sub(key).ready();
    policy.updateEndpoints(endpoints(B, C, D), {});
    expect(fake.refs.get(A)).toBe(0);
    expect(fake.refs.get(B)).toBe(1);
    expect(fake.refs.get(C)).toBe(1);
    expect(fake.acquired).toBe(4);
    expect(fake.sub(B).connectCalls).toBe(1);
    expect(fake.sub(D).connectCalls).toBe(1);
    expect(fake.last().state).toBe(READY);
    expect(spread(picks(100))).toEqual({ [B]: 50, [C]: 50 });
    // A released subchannel's later changes are ignored.
    const updates = fake.updates.length;
    fake.sub(A).idle();
    expect(fake.updates.length).toBe(updates);
    expect(fake.sub(A).connectCalls).toBe(1);
  });

  it('keeps the picker and its rotation for an update with the same addresses (e.g. a DNS refresh)', () => {
    start(() => 0);
    policy.updateEndpoints(endpoints(A, B, C), {});
    for (const key of [A, B, C]) fake.sub(key).ready();
    const updates = fake.updates.length;
    const picker = fake.last().picker;
    expect(spread(picks(2))).toEqual({ [A]: 1, [B]: 1 });
    policy.updateEndpoints(endpoints(C, A, B), {});
    expect(fake.updates.length).toBe(updates);
    expect(fake.last().picker).toBe(picker);
    // The rotation continues where it was: C is next, then an exact cycle.
    expect(spread(picks(1))).toEqual({ [C]: 1 });
    expect(spread(picks(300))).toEqual({ [A]: 100, [B]: 100, [C]: 100 });
  });

  it('reports TRANSIENT_FAILURE for an empty list and for a resolver error without addresses', () => {
    policy.resolverError('no such host');
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    const [first] = picks(1);
    expect(first?.type === 'fail' && first.status.details).toBe('no such host');
    policy.updateEndpoints(endpoints(A), {});
    fake.sub(A).ready();
    const count = fake.updates.length;
    policy.resolverError('ignored while endpoints are known');
    expect(fake.updates.length).toBe(count);
    policy.updateEndpoints([], {});
    expect(fake.refs.get(A)).toBe(0);
    const [second] = picks(1);
    expect(second?.type === 'fail' && second.status.details).toBe('resolver returned no addresses');
  });

  it('exitIdle connects IDLE children', () => {
    const shared = fake.helper.createSubchannel(parseAddress(A)) as FakeSubchannel;
    policy.updateEndpoints(endpoints(A), {});
    expect(shared.connectCalls).toBe(1);
    fake.helper.releaseSubchannel(shared);
    policy.exitIdle(); // CONNECTING: no-op
    expect(shared.connectCalls).toBe(1);
  });

  it('releases everything on close and ignores later events', () => {
    policy.updateEndpoints(endpoints(A, B, C), {});
    fake.sub(A).ready();
    policy.close();
    expect(fake.released).toBe(fake.acquired);
    const updates = fake.updates.length;
    fake.sub(B).ready();
    policy.updateEndpoints(endpoints(D), {});
    expect(fake.updates.length).toBe(updates);
  });
});

describe('src/picker/index', () => {
  it('registers pick_first and round_robin on import', async () => {
    await import('../../../src/picker/index');
    const { getLoadBalancingPolicyFactory } = await import('../../../src/picker/registry');
    const { pickFirstPolicy } = await import('../../../src/picker/pick-first');
    const { roundRobinPolicy } = await import('../../../src/picker/round-robin');
    expect(getLoadBalancingPolicyFactory('pick_first')).toBe(pickFirstPolicy);
    expect(getLoadBalancingPolicyFactory('round_robin')).toBe(roundRobinPolicy);
  });
});
