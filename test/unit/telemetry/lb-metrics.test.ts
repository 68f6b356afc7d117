/** gRFC A78 metrics of pick_first (through `helper.metrics`) and WRR's weight classification. */
import { describe, expect, it } from 'vitest';
import { weightUsability, emptyWeight, updateWeight } from '../../../src/picker/endpoint-weight';
import { createPickFirstPolicy } from '../../../src/picker/pick-first';
import type { LbCounterName, LbMetricsRecorder } from '../../../src/picker/types';
import { createFakeHelper, endpoints } from '../../helpers/fake-subchannel';
import { emptyOrcaLoadReport } from '../../../src/picker/orca-load-report';

function recorder(): LbMetricsRecorder & { counts: Partial<Record<LbCounterName, number>>; weights: number[] } {
  const counts: Partial<Record<LbCounterName, number>> = {};
  const weights: number[] = [];
  return {
    counts,
    weights,
    addCount: (name, value) => (counts[name] = (counts[name] ?? 0) + value),
    recordEndpointWeight: (weight) => weights.push(weight),
  };
}

describe('pick_first A78 metrics', () => {
  it('counts failed and succeeded connection attempts and the loss of the selected connection', () => {
    const metrics = recorder();
    const fake = createFakeHelper({ metrics });
    const policy = createPickFirstPolicy(fake.helper);
    policy.updateEndpoints(endpoints('10.0.0.1:1', '10.0.0.2:1'), undefined);
    fake.subchannels.get('10.0.0.1:1')!.fail();
    fake.subchannels.get('10.0.0.2:1')!.ready();
    expect(metrics.counts).toEqual({ 'grpc.lb.pick_first.connection_attempts_failed': 1, 'grpc.lb.pick_first.connection_attempts_succeeded': 1 });
    fake.subchannels.get('10.0.0.2:1')!.idle();
    expect(metrics.counts['grpc.lb.pick_first.disconnections']).toBe(1);
    policy.close();
  });

  it('records nothing without a recorder', () => {
    const fake = createFakeHelper();
    const policy = createPickFirstPolicy(fake.helper);
    policy.updateEndpoints(endpoints('10.0.0.1:1'), undefined);
    expect(() => fake.subchannels.get('10.0.0.1:1')!.ready()).not.toThrow();
    policy.close();
  });
});

describe('WRR weight usability (A78)', () => {
  const rules = { blackoutPeriodMs: 10_000, weightExpirationPeriodMs: 180_000, errorUtilizationPenalty: 1 };
  it('is not yet usable before a report and during the blackout, usable after, stale after expiry', () => {
    const weight = emptyWeight();
    expect(weightUsability(weight, 0, rules)).toBe('not-yet-usable');
    const report = { ...emptyOrcaLoadReport(), cpuUtilization: 0.5, rpsFractional: 100 };
    updateWeight(weight, report, 1_000, 1);
    expect(weightUsability(weight, 5_000, rules)).toBe('not-yet-usable');
    expect(weightUsability(weight, 12_000, rules)).toBe('usable');
    expect(weightUsability(weight, 1_000 + 180_000, rules)).toBe('stale');
  });
});
