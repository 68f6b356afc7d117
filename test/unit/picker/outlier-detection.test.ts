/** outlier_detection (gRFC A50, per endpoint as A61 amends it): config, the ejection algorithms, the policy. */
import { connectivityState, status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import '../../../src/picker/index';
import { ConfigError } from '../../../src/errors';
import { createOutlierDetectionPolicy, parseOutlierDetectionConfig, type OutlierDetectionConfig } from '../../../src/picker/outlier-detection';
import { outlierEndpoint, runOutlierDetection, type OutlierEndpoint } from '../../../src/picker/outlier-ejection';
import type { LoadBalancingPolicy, PickComplete } from '../../../src/picker/types';
import { createFakeHelper, endpoints, pickArgs, type FakeHelper } from '../../helpers/fake-subchannel';

const { READY, TRANSIENT_FAILURE } = connectivityState;
const A = '127.0.0.1:1001';
const B = '127.0.0.2:1002';
const C = '127.0.0.3:1003';

describe('parseOutlierDetectionConfig', () => {
  const path = 'loadBalancingConfig[0].outlier_detection';

  it('has gRFC A50 defaults, and reads grpc-js 1.14\'s snake_case {seconds, nanos} form', () => {
    const defaults = parseOutlierDetectionConfig({ childPolicy: [{ round_robin: {} }], successRateEjection: {}, failurePercentageEjection: {} }, path);
    expect(defaults).toMatchObject({
      intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionTimeMs: 300_000, maxEjectionPercent: 10,
      successRateEjection: { stdevFactor: 1900, enforcementPercentage: 100, minimumHosts: 5, requestVolume: 100 },
      failurePercentageEjection: { threshold: 85, enforcementPercentage: 100, minimumHosts: 5, requestVolume: 50 },
    });
    expect(defaults.childPolicy.factory.name).toBe('round_robin');
    const grpcJs = parseOutlierDetectionConfig({
      interval: { seconds: 1 }, base_ejection_time: { seconds: 2, nanos: 500_000_000 }, max_ejection_time: { seconds: 1 },
      max_ejection_percent: 50, failure_percentage_ejection: { threshold: 40, enforcement_percentage: 90, minimum_hosts: 3, request_volume: 10 },
      child_policy: [{ least_request: { choice_count: 3 } }],
    }, path);
    expect(grpcJs).toMatchObject({
      intervalMs: 1000, baseEjectionTimeMs: 2500, maxEjectionTimeMs: 2500, // max(base, max), as A50 applies it
      maxEjectionPercent: 50, successRateEjection: undefined,
      failurePercentageEjection: { threshold: 40, enforcementPercentage: 90, minimumHosts: 3, requestVolume: 10 },
    });
    expect(grpcJs.childPolicy.config).toEqual({ choiceCount: 3 });
  });

  it('rejects bad values at their exact path', () => {
    const child = { childPolicy: [{ round_robin: {} }] };
    expect(() => parseOutlierDetectionConfig({ ...child, maxEjectionPercent: 101 }, path)).toThrow(`${path}.maxEjectionPercent: must be an integer >= 0 and <= 100, got 101`);
    expect(() => parseOutlierDetectionConfig({ ...child, failure_percentage_ejection: { threshold: 120 } }, path)).toThrow(`${path}.failure_percentage_ejection.threshold:`);
    expect(() => parseOutlierDetectionConfig({ ...child, interval: '0s' }, path)).toThrow(`${path}.interval: must be at least`);
    expect(() => parseOutlierDetectionConfig({ ...child, baseEjectionTime: '-1s' }, path)).toThrow(`${path}.baseEjectionTime: must not be negative`);
    expect(() => parseOutlierDetectionConfig({}, path)).toThrow(`${path}.childPolicy: is required`);
    expect(() => parseOutlierDetectionConfig({ childPolicy: [{ nope: {} }] }, path)).toThrow(`${path}.childPolicy: no supported policy: "nope" is not registered`);
    expect(() => parseOutlierDetectionConfig({ childPolicy: [{ least_request: { choiceCount: 1 } }] }, path)).toThrow(
      `${path}.childPolicy[0].least_request.choiceCount: must be an integer >= 2`,
    );
    expect(() => parseOutlierDetectionConfig({ childPolicy: [{ round_robin: {} }], successRateEjection: 3 }, path)).toThrow(ConfigError);
  });
});

describe('runOutlierDetection (gRFC A50 algorithms)', () => {
  const config = (overrides: Partial<OutlierDetectionConfig>): OutlierDetectionConfig =>
    ({ ...parseOutlierDetectionConfig({ childPolicy: [{ round_robin: {} }] }, 'p'), ...overrides }) as OutlierDetectionConfig;
  const successRate = { stdevFactor: 1900, enforcementPercentage: 100, minimumHosts: 5, requestVolume: 100 };
  const failurePercentage = { threshold: 85, enforcementPercentage: 100, minimumHosts: 5, requestVolume: 50 };

  function run(list: OutlierEndpoint[], c: OutlierDetectionConfig, now = 0, random = 0): OutlierEndpoint[] {
    const ejected: OutlierEndpoint[] = [];
    runOutlierDetection(list, c, now, { eject: (e) => ejected.push(e), uneject: () => {}, random: () => random });
    return ejected;
  }
  function withCalls(successes: number, failures: number): OutlierEndpoint {
    return { ...outlierEndpoint(), successes, failures };
  }

  // Success rates 1, 1, 1, 1, 0.5: mean 0.9, stdev 0.2, threshold 0.9 − 0.2 × 1.9 = 0.52.
  it('ejects an endpoint whose success rate is below mean − stdev × stdevFactor / 1000', () => {
    const list = [...Array.from({ length: 4 }, () => withCalls(200, 0)), withCalls(100, 100)];
    expect(run(list, config({ successRateEjection: successRate, maxEjectionPercent: 100 }))).toEqual([list[4]]);
    expect(list[4]!.ejectedAt).toBe(0);
    expect(list[4]!.multiplier).toBe(1);
  });

  it('needs minimumHosts endpoints with requestVolume calls, and judges only those', () => {
    const four = [...Array.from({ length: 3 }, () => withCalls(200, 0)), withCalls(100, 100)];
    expect(run(four, config({ successRateEjection: successRate, maxEjectionPercent: 100 }))).toEqual([]);
    const lowVolume = [...Array.from({ length: 5 }, () => withCalls(200, 0)), withCalls(10, 89)];
    expect(run(lowVolume, config({ successRateEjection: successRate, maxEjectionPercent: 100 }))).toEqual([]);
  });

  it('ejects above the failure percentage threshold (strictly), honours maxEjectionPercent and enforcementPercentage', () => {
    const list = [withCalls(50, 0), withCalls(50, 0), withCalls(5, 95), withCalls(10, 90), withCalls(15, 85)];
    const c = config({ failurePercentageEjection: failurePercentage, maxEjectionPercent: 100 });
    expect(run(list, c)).toEqual([list[2], list[3]]); // 85 % is not above 85
    const again = [withCalls(50, 0), withCalls(50, 0), withCalls(5, 95), withCalls(10, 90), withCalls(50, 0)];
    // 10 %: the first ejection (0 % < 10 %) is allowed, then 20 % >= 10 % stops.
    expect(run(again, config({ failurePercentageEjection: failurePercentage, maxEjectionPercent: 10 }))).toEqual([again[2]]);
    const unenforced = [withCalls(50, 0), withCalls(50, 0), withCalls(5, 95), withCalls(50, 0), withCalls(50, 0)];
    expect(run(unenforced, config({ failurePercentageEjection: { ...failurePercentage, enforcementPercentage: 50 }, maxEjectionPercent: 100 }), 0, 0.5)).toEqual([]);
  });

  it('un-ejects after baseEjectionTime × multiplier (capped at maxEjectionTime); the multiplier decays while not ejected', () => {
    const c = config({ failurePercentageEjection: { ...failurePercentage, minimumHosts: 1 }, baseEjectionTimeMs: 30_000, maxEjectionTimeMs: 45_000 });
    const e = withCalls(0, 100);
    const unejected: number[] = [];
    const tick = (now: number, failures = 0): void => {
      e.failures = failures;
      runOutlierDetection([e], c, now, { eject: () => {}, uneject: () => unejected.push(now), random: () => 0 });
    };
    tick(0, 100);
    expect(e.ejectedAt).toBe(0);
    tick(10_000);
    tick(20_000);
    tick(30_000);
    expect(unejected).toEqual([30_000]);
    tick(40_000, 100); // ejected again: multiplier 2, 60 s capped at 45 s
    expect(e.multiplier).toBe(2);
    tick(80_000);
    tick(85_000);
    expect(unejected).toEqual([30_000, 85_000]);
    tick(95_000);
    expect(e.multiplier).toBe(1);
  });
});

describe('outlier_detection', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeHelper;
  let policy: LoadBalancingPolicy;
  const config = (child: object = { round_robin: {} }, extra: object = {}) =>
    parseOutlierDetectionConfig({
      interval: '1s', baseEjectionTime: '30s', maxEjectionPercent: 50,
      failurePercentageEjection: { threshold: 40, minimumHosts: 3, requestVolume: 10 }, childPolicy: [child], ...extra,
    }, 'p');

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    fake = createFakeHelper({ random: () => 0 });
    policy = createOutlierDetectionPolicy(fake.helper);
  });
  afterEach(() => {
    policy.close();
    expect(fake.released).toBe(fake.acquired);
    expect(clock.countTimers()).toBe(0);
    clock.restore();
  });

  /** `calls` picks, each answered OK, except C answered UNAVAILABLE every other time. */
  function traffic(calls: number): Record<string, number> {
    const out: Record<string, number> = {};
    let cFailures = 0;
    for (let i = 0; i < calls; i++) {
      const result = fake.last().picker.pick(pickArgs()) as PickComplete;
      const key = result.subchannel.key;
      out[key] = (out[key] ?? 0) + 1;
      result.onAttemptEnded?.(key === C && cFailures++ % 2 === 0 ? status.UNAVAILABLE : status.OK, undefined, 1);
    }
    return out;
  }

  // Breaking the counting hook or the wrapper's ejection keeps C in the rotation.
  it('ejects a 50 %-failing endpoint within two intervals, keeps its connection, and reinstates it after baseEjectionTime', () => {
    policy.updateEndpoints(endpoints(A, B, C), config());
    for (const key of [A, B, C]) fake.sub(key).ready();
    traffic(300);
    clock.tick(1000);
    expect(Object.keys(traffic(300)).sort()).toEqual([A, B]);
    expect(fake.refs.get(C)).toBe(1);
    expect(fake.last().state).toBe(READY);
    clock.tick(30_000);
    expect(Object.keys(traffic(30)).sort()).toEqual([A, B, C]);
  });

  it('chains the child\'s own hook (least_request in-flight counts) after counting', () => {
    const randoms: number[] = [];
    policy.close();
    fake = createFakeHelper({ random: () => randoms.shift() ?? 0 });
    policy = createOutlierDetectionPolicy(fake.helper);
    policy.updateEndpoints(endpoints(A, B), config({ least_request: {} }));
    fake.sub(A).ready();
    fake.sub(B).ready();
    const first = fake.last().picker.pick(pickArgs()) as PickComplete;
    expect(first.subchannel.key).toBe(A);
    first.onAttemptEnded!(status.OK, undefined, 1);
    // If least_request's hook had not run, A would still count 1 in flight and B (0) would win.
    randoms.push(0.25, 0.75);
    expect((fake.last().picker.pick(pickArgs()) as PickComplete).subchannel.key).toBe(A);
  });

  it('without an ejection algorithm, passes picks through uncounted and un-ejects everything', () => {
    policy.updateEndpoints(endpoints(A, B, C), config());
    for (const key of [A, B, C]) fake.sub(key).ready();
    traffic(300);
    clock.tick(1000);
    policy.updateEndpoints(endpoints(A, B, C), parseOutlierDetectionConfig({ childPolicy: [{ round_robin: {} }] }, 'p'));
    const result = fake.last().picker.pick(pickArgs()) as PickComplete;
    expect(result.onAttemptEnded).toBeUndefined();
    expect(Object.keys(traffic(30)).sort()).toEqual([A, B, C]);
  });

  it('switches the child policy, keeping shared connections', () => {
    policy.updateEndpoints(endpoints(A, B), config({ pick_first: {} }));
    fake.sub(A).ready();
    policy.updateEndpoints(endpoints(A, B), config({ round_robin: {} }));
    expect(fake.refs.get(A)).toBe(1);
    fake.sub(B).ready();
    expect(Object.keys(traffic(10)).sort()).toEqual([A, B]);
  });

  it('reports a resolver error before any list', () => {
    policy.resolverError('no such host');
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    expect(fake.last().error).toBe('no such host');
  });
});
