/** switchyard.peak_ewma: the Finagle / tower estimator, config, and latency-aware picks. */
import { connectivityState, status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPeakEwmaPolicy, observe, parsePeakEwmaConfig, peakEwmaCost, type RttEstimate } from '../../../src/picker/peak-ewma';
import type { LoadBalancingPolicy, PickComplete } from '../../../src/picker/types';
import { createFakeHelper, endpoints, pickArgs, type FakeHelper } from '../../helpers/fake-subchannel';

describe('parsePeakEwmaConfig', () => {
  it('reads decay and defaultRtt as proto3 JSON durations, with defaults', () => {
    expect(parsePeakEwmaConfig({}, 'p')).toEqual({ decayMs: 10_000, defaultRttMs: 30 });
    expect(parsePeakEwmaConfig({ decay: '1.5s', default_rtt: { seconds: 0, nanos: 5_000_000 } }, 'p')).toEqual({ decayMs: 1500, defaultRttMs: 5 });
  });

  it('rejects a zero or malformed duration at its path', () => {
    expect(() => parsePeakEwmaConfig({ decay: '0s' }, 'loadBalancingConfig[0]["switchyard.peak_ewma"]')).toThrow(
      /^loadBalancingConfig\[0\]\["switchyard.peak_ewma"\]\.decay: must be at least/,
    );
    expect(() => parsePeakEwmaConfig({ decay: '10' }, 'p')).toThrow(/^p\.decay: must be a duration string/);
  });
});

describe('the peak-EWMA estimate (tower load::PeakEwma test "compound_decay")', () => {
  // The same sequence as tower's test: default RTT 20 ms, decay 1 s, two overlapping 200 ms calls.
  // Breaking the peak rule (averaging a slower sample in) makes the 400 figure smaller.
  it('follows the peak at once and decays toward newer, faster samples and toward 0 without traffic', () => {
    const decay = 1000;
    const e: RttEstimate = { rttMs: 20, updatedAt: 0, inFlight: 0, result: undefined, onEnded: () => {} };
    expect(peakEwmaCost(e, 0, decay)).toBe(20);
    e.inFlight++; // call 0 at t = 100
    expect(peakEwmaCost(e, 100, decay)).toBeGreaterThan(20);
    e.inFlight++; // call 1 at t = 200
    expect(peakEwmaCost(e, 200, decay)).toBeGreaterThan(40);
    e.inFlight--;
    observe(e, 200, 300, decay); // call 0 took 200 ms
    expect(peakEwmaCost(e, 300, decay)).toBe(400);
    e.inFlight--;
    observe(e, 200, 400, decay); // call 1 took 200 ms
    expect(peakEwmaCost(e, 400, decay)).toBeCloseTo(200, 9);
    expect(peakEwmaCost(e, 1400, decay)).toBeLessThan(100);
    expect(peakEwmaCost(e, 11_400, decay)).toBeLessThan(0.1);
  });
});

describe('switchyard.peak_ewma', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeHelper;
  let policy: LoadBalancingPolicy;
  const A = '127.0.0.1:1001';
  const B = '127.0.0.2:1002';

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    fake = createFakeHelper({ random: Math.random });
    policy = createPeakEwmaPolicy(fake.helper);
    policy.updateEndpoints(endpoints(A, B), parsePeakEwmaConfig({ decay: '10s', defaultRtt: '0.01s' }, 'p'));
    fake.sub(A).ready();
    fake.sub(B).ready();
  });
  afterEach(() => {
    policy.close();
    expect(fake.released).toBe(fake.acquired);
    clock.restore();
  });

  // Breaking the latency input (ignoring elapsedMs) leaves the split near 50/50.
  it('sends most calls to the faster endpoint once latencies are observed', () => {
    const counts: Record<string, number> = { [A]: 0, [B]: 0 };
    for (let i = 0; i < 2000; i++) {
      const result = fake.last().picker.pick(pickArgs()) as PickComplete;
      counts[result.subchannel.key]!++;
      clock.tick(1);
      result.onAttemptEnded!(status.OK, undefined, result.subchannel.key === A ? 2 : 40);
    }
    expect(counts[A]! / 2000).toBeGreaterThan(0.9);
    expect(counts[B]).toBeGreaterThan(0); // the slow one is still probed as its estimate decays
  });

  it('is READY over READY endpoints only', () => {
    fake.sub(B).idle();
    for (let i = 0; i < 20; i++) expect((fake.last().picker.pick(pickArgs()) as PickComplete).subchannel.key).toBe(A);
    expect(fake.last().state).toBe(connectivityState.READY);
  });
});
