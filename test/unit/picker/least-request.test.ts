/** least_request (gRFC A48): config, power-of-choices picks over in-flight counts, endpoint shares. */
import { connectivityState, status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors';
import { createLeastRequestPolicy, parseLeastRequestConfig } from '../../../src/picker/least-request';
import type { LoadBalancingPolicy, PickComplete, PickResult } from '../../../src/picker/types';
import { createFakeHelper, endpoints, parseAddress, pickArgs, type FakeHelper } from '../../helpers/fake-subchannel';

const A = '127.0.0.1:1001';
const B = '127.0.0.2:1002';
const C = '127.0.0.3:1003';

describe('parseLeastRequestConfig (gRFC A48)', () => {
  it('defaults to 2, reads camelCase and snake_case, clamps above 10', () => {
    expect(parseLeastRequestConfig({}, 'p')).toEqual({ choiceCount: 2 });
    expect(parseLeastRequestConfig({ choiceCount: 3 }, 'p')).toEqual({ choiceCount: 3 });
    expect(parseLeastRequestConfig({ choice_count: '4' }, 'p')).toEqual({ choiceCount: 4 });
    expect(parseLeastRequestConfig({ choiceCount: 4_000_000_000 }, 'p')).toEqual({ choiceCount: 10 });
  });

  it('rejects a count below 2, a fraction, and both spellings at once, naming the field', () => {
    expect(() => parseLeastRequestConfig({ choiceCount: 1 }, 'loadBalancingConfig[0].least_request')).toThrow(
      'loadBalancingConfig[0].least_request.choiceCount: must be an integer >= 2 and <= 4294967295, got 1',
    );
    expect(() => parseLeastRequestConfig({ choice_count: 2.5 }, 'p')).toThrow(/^p\.choice_count: must be an integer/);
    expect(() => parseLeastRequestConfig({ choiceCount: 2, choice_count: 3 }, 'p')).toThrow(ConfigError);
    expect(() => parseLeastRequestConfig([], 'p')).toThrow('p: must be an object');
  });
});

describe('least_request', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeHelper;
  let policy: LoadBalancingPolicy;
  let randoms: number[];

  function start(choiceCount = 2): void {
    randoms = [];
    fake = createFakeHelper({ random: () => randoms.shift() ?? 0 });
    policy = createLeastRequestPolicy(fake.helper);
    policy.updateEndpoints(endpoints(A, B, C), parseLeastRequestConfig({ choiceCount }, 'p'));
    for (const key of [A, B, C]) fake.sub(key).ready();
  }

  const pick = (): PickComplete => fake.last().picker.pick(pickArgs()) as PickComplete;
  /** Random values that sample READY entry `i` of 3 (entries are in the order they became READY). */
  const at = (...indices: number[]): number[] => indices.map((i) => (i + 0.5) / 3);

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    start();
  });
  afterEach(() => {
    policy.close();
    expect(fake.released).toBe(fake.acquired);
    clock.restore();
  });

  // Breaking the comparison (taking the first sample) sends the second pick to A again.
  it('takes the sampled endpoint with fewer calls in flight, and counts each pick until its attempt ends', () => {
    randoms = at(0, 1);
    const first = pick();
    expect(first.subchannel.key).toBe(A);
    randoms = at(0, 1); // A has 1 in flight, B 0
    const second = pick();
    expect(second.subchannel.key).toBe(B);
    randoms = at(0, 1); // tie 1:1 -> the first sample
    expect(pick().subchannel.key).toBe(A);
    first.onAttemptEnded!(status.OK, undefined, 5);
    first.onAttemptEnded!(status.UNAVAILABLE, undefined, 5); // every status counts
    randoms = at(1, 0); // B 1, A 0
    expect(pick().subchannel.key).toBe(A);
  });

  it('samples choiceCount endpoints', () => {
    policy.close();
    start(3);
    randoms = at(0, 0, 0);
    pick();
    randoms = at(0, 0, 2); // A has 1: the third sample wins
    expect(pick().subchannel.key).toBe(C);
  });

  it('returns the same preallocated result per endpoint, with the hook', () => {
    randoms = at(2, 2);
    const one = pick();
    randoms = at(2, 2);
    expect(pick()).toBe(one);
    expect(typeof one.onAttemptEnded).toBe('function');
  });

  it('gives an endpoint with two addresses one share (gRFC A61)', () => {
    policy.close();
    fake = createFakeHelper({ random: Math.random });
    policy = createLeastRequestPolicy(fake.helper);
    policy.updateEndpoints([{ addresses: [parseAddress(A), parseAddress(B)] }, { addresses: [parseAddress(C)] }], { choiceCount: 2 });
    fake.sub(A).ready();
    fake.sub(C).ready();
    const counts: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) {
      const result = pick();
      counts[result.subchannel.key] = (counts[result.subchannel.key] ?? 0) + 1;
      result.onAttemptEnded!(status.OK, undefined, 1);
    }
    expect(Object.keys(counts).sort()).toEqual([A, C]);
    expect(Math.abs(counts[A]! - 1000)).toBeLessThan(150);
  });

  it('prefers an endpoint that earlier attempts of the call did not use', () => {
    randoms = at(0, 0, 1, 1);
    const result = fake.last().picker.pick(pickArgs([fake.sub(A)])) as PickResult;
    expect(result.type === 'complete' && result.subchannel.key).toBe(B);
  });

  it('goes TRANSIENT_FAILURE when every endpoint failed, like round_robin', () => {
    policy.close();
    fake = createFakeHelper();
    policy = createLeastRequestPolicy(fake.helper);
    policy.updateEndpoints(endpoints(A, B), { choiceCount: 2 });
    fake.sub(A).fail();
    expect(fake.last().state).toBe(connectivityState.CONNECTING);
    fake.sub(B).fail();
    expect(fake.last().state).toBe(connectivityState.TRANSIENT_FAILURE);
  });
});
