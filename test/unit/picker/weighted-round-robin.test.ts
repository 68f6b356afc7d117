/**
 * weighted_round_robin (gRFC A58) with ORCA (gRFC A51): config forms, the weight rules, the static
 * stride scheduler, and the policy fed by per-call trailers and by out-of-band streams.
 */
import { Metadata, connectivityState, status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentWeight, emptyWeight, resetBlackout, updateWeight } from '../../../src/picker/endpoint-weight';
import { emptyOrcaLoadReport, ORCA_TRAILER } from '../../../src/picker/orca-load-report';
import { ORCA_OOB_METHOD } from '../../../src/picker/orca-oob';
import { staticStrideScheduler } from '../../../src/picker/static-stride';
import type { LoadBalancingPolicy, PickComplete, SubchannelStream } from '../../../src/picker/types';
import { createWeightedRoundRobinPolicy, parseWeightedRoundRobinConfig } from '../../../src/picker/weighted-round-robin';
import type { Address } from '../../../src/resolver/types';
import { FakeSubchannel, createFakeHelper, endpoints, pickArgs, type FakeHelper } from '../../helpers/fake-subchannel';
import { requestedIntervalMs, serializeOrcaLoadReport } from '../../helpers/orca';

const A = '127.0.0.1:1001';
const B = '127.0.0.2:1002';
const C = '127.0.0.3:1003';

describe('parseWeightedRoundRobinConfig', () => {
  it('has gRFC A58 defaults', () => {
    expect(parseWeightedRoundRobinConfig({}, 'p')).toEqual({
      enableOobLoadReport: false, oobReportingPeriodMs: 10_000, blackoutPeriodMs: 10_000, weightExpirationPeriodMs: 180_000,
      weightUpdatePeriodMs: 1_000, errorUtilizationPenalty: 1,
    });
  });

  // grpc-js 1.14 accepts only this form; a config written for it must move over unchanged.
  it('reads grpc-js 1.14\'s snake_case, {seconds, nanos} form, and grpc-go\'s camelCase strings', () => {
    const grpcJs = {
      enable_oob_load_report: true, oob_load_reporting_period: { seconds: 5 }, blackout_period: { seconds: 1, nanos: 500_000_000 },
      weight_expiration_period: { seconds: 60 }, weight_update_period: { seconds: 0, nanos: 50_000_000 }, error_utilization_penalty: 1.5,
    };
    const grpcGo = {
      enableOobLoadReport: true, oobReportingPeriod: '5s', blackoutPeriod: '1.5s', weightExpirationPeriod: '60s',
      weightUpdatePeriod: '0.05s', errorUtilizationPenalty: 1.5,
    };
    const expected = {
      enableOobLoadReport: true, oobReportingPeriodMs: 5000, blackoutPeriodMs: 1500, weightExpirationPeriodMs: 60_000,
      weightUpdatePeriodMs: 100, errorUtilizationPenalty: 1.5, // weightUpdatePeriod below 100 ms is raised to 100 ms
    };
    expect(parseWeightedRoundRobinConfig(grpcJs, 'p')).toEqual(expected);
    expect(parseWeightedRoundRobinConfig(grpcGo, 'p')).toEqual(expected);
  });

  it('rejects a negative penalty, a negative duration and a non-boolean flag at their paths', () => {
    const path = 'loadBalancingConfig[0].weighted_round_robin';
    expect(() => parseWeightedRoundRobinConfig({ errorUtilizationPenalty: -1 }, path)).toThrow(`${path}.errorUtilizationPenalty: must be a number >= 0, got -1`);
    expect(() => parseWeightedRoundRobinConfig({ blackout_period: { seconds: -1 } }, path)).toThrow(`${path}.blackout_period: must not be negative`);
    expect(() => parseWeightedRoundRobinConfig({ enableOobLoadReport: 'yes' }, path)).toThrow(`${path}.enableOobLoadReport: must be a boolean`);
  });
});

describe('endpoint weights (gRFC A58 "Subchannel Weights")', () => {
  const rules = { blackoutPeriodMs: 10_000, weightExpirationPeriodMs: 180_000, errorUtilizationPenalty: 1 };
  const report = (fields: Partial<ReturnType<typeof emptyOrcaLoadReport>>) => ({ ...emptyOrcaLoadReport(), ...fields });

  it('weight = qps / (utilization + eps / qps × penalty), application_utilization before cpu_utilization', () => {
    const w = emptyWeight();
    updateWeight(w, report({ rpsFractional: 100, cpuUtilization: 0.5, eps: 10 }), 0, 1);
    expect(w.weight).toBeCloseTo(100 / 0.6, 9);
    updateWeight(w, report({ rpsFractional: 100, cpuUtilization: 0.9, applicationUtilization: 0.4, eps: 0 }), 0, 1);
    expect(w.weight).toBeCloseTo(250, 9);
    updateWeight(w, report({ rpsFractional: 100, cpuUtilization: 0.5, eps: 10 }), 0, 2);
    expect(w.weight).toBeCloseTo(100 / 0.7, 9);
  });

  it('ignores reports without qps or utilization', () => {
    const w = emptyWeight();
    updateWeight(w, report({ cpuUtilization: 0.5 }), 0, 1);
    updateWeight(w, report({ rpsFractional: 10 }), 0, 1);
    expect(w).toEqual(emptyWeight());
  });

  it('is 0 during the blackout after the first report, usable after it, and 0 again once stale (blackout restarts)', () => {
    const w = emptyWeight();
    updateWeight(w, report({ rpsFractional: 10, cpuUtilization: 0.5 }), 1_000, 1);
    expect(currentWeight(w, 5_000, rules)).toBe(0);
    updateWeight(w, report({ rpsFractional: 10, cpuUtilization: 0.5 }), 10_000, 1);
    expect(currentWeight(w, 11_000, rules)).toBe(20);
    expect(currentWeight(w, 190_000, rules)).toBe(0); // no report for 180 s
    updateWeight(w, report({ rpsFractional: 10, cpuUtilization: 0.5 }), 191_000, 1);
    expect(currentWeight(w, 195_000, rules)).toBe(0); // a new blackout
    expect(currentWeight(w, 201_000, rules)).toBe(20);
    resetBlackout(w); // READY again
    updateWeight(w, report({ rpsFractional: 10, cpuUtilization: 0.5 }), 202_000, 1);
    expect(currentWeight(w, 203_000, rules)).toBe(0);
  });
});

describe('staticStrideScheduler', () => {
  function counts(weights: number[], picks: number): number[] {
    let seq = 0;
    const scheduler = staticStrideScheduler(weights, () => seq++ >>> 0);
    const out = weights.map(() => 0);
    for (let i = 0; i < picks; i++) out[scheduler!()]!++;
    return out;
  }

  // Breaking the skip rule (taking every index) makes the split even.
  it('picks in proportion to the weights', () => {
    const out = counts([1, 2, 3], 60_000);
    expect(out[0]! / 10_000).toBeCloseTo(1, 1);
    expect(out[1]! / 10_000).toBeCloseTo(2, 1);
    expect(out[2]! / 10_000).toBeCloseTo(3, 1);
  });

  it('gives an unknown (0) weight the mean of the known ones', () => {
    const out = counts([1, 0, 3], 60_000);
    expect(out[1]! / out[0]!).toBeCloseTo(2, 1);
  });

  it('caps a weight at 10 × the mean (C-core), bounding the rounds per pick', () => {
    const weights = [...Array.from({ length: 11 }, () => 1), 1000];
    const out = counts(weights, 200_000);
    const mean = 1011 / 12;
    expect(out[11]! / out[0]!).toBeCloseTo(10 * mean, -1);
  });

  it('falls back to round robin (undefined) with fewer than two known weights, equal weights or one endpoint', () => {
    expect(staticStrideScheduler([0, 0, 5], () => 0)).toBeUndefined();
    expect(staticStrideScheduler([2, 2, 2], () => 0)).toBeUndefined();
    expect(staticStrideScheduler([7], () => 0)).toBeUndefined();
  });
});

/** A subchannel that can open streams: each createStream records a scripted server-streaming call. */
class StreamingSubchannel extends FakeSubchannel {
  readonly streams: FakeStream[] = [];
  createStream(method: string, _deadline: number): SubchannelStream {
    const stream = new FakeStream(method);
    this.streams.push(stream);
    return stream as unknown as SubchannelStream;
  }
}

class FakeStream {
  listener: Parameters<SubchannelStream['start']>[1] | undefined;
  request: Buffer | undefined;
  cancelled = false;
  constructor(readonly method: string) {}
  start(_metadata: Metadata, listener: Parameters<SubchannelStream['start']>[1]): void {
    this.listener = listener;
  }
  sendMessageWithContext(_context: object, message: Buffer): void {
    this.request = message;
  }
  halfClose(): void {}
  startRead(): void {}
  cancelWithStatus(): void {
    this.cancelled = true;
  }
  send(report: Record<string, unknown>): void {
    this.listener!.onReceiveMessage(serializeOrcaLoadReport(report));
  }
  end(code: status): void {
    this.listener!.onReceiveStatus({ code, details: '', metadata: new Metadata() });
  }
}

describe('weighted_round_robin', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeHelper;
  let policy: LoadBalancingPolicy;

  function start(config: object): void {
    fake = createFakeHelper({ random: () => 0 });
    const create = fake.helper.createSubchannel;
    fake.helper.createSubchannel = (address: Address) => {
      const sc = new StreamingSubchannel(address);
      if (!fake.subchannels.has(sc.key)) fake.subchannels.set(sc.key, sc);
      return create(address);
    };
    policy = createWeightedRoundRobinPolicy(fake.helper);
    policy.updateEndpoints(endpoints(A, B, C), parseWeightedRoundRobinConfig(config, 'p'));
    for (const key of [A, B, C]) fake.sub(key).ready();
  }

  function spread(picks: number, report?: (result: PickComplete) => void): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < picks; i++) {
      const result = fake.last().picker.pick(pickArgs()) as PickComplete;
      out[result.subchannel.key] = (out[result.subchannel.key] ?? 0) + 1;
      report?.(result);
    }
    return out;
  }

  /** Per-call trailers carrying a report whose weight (qps / utilization) is `weight`. */
  function trailers(weight: number): Metadata {
    const metadata = new Metadata();
    metadata.set(ORCA_TRAILER, serializeOrcaLoadReport({ rps_fractional: weight, application_utilization: 1 }));
    return metadata;
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => {
    policy.close();
    expect(fake.released).toBe(fake.acquired);
    expect(clock.countTimers()).toBe(0);
    clock.restore();
  });

  // Breaking the per-call hook (not decoding the trailer) leaves the split even (1:1:1).
  it('splits calls by the weights of per-call ORCA reports, after the blackout, within 5 %', () => {
    start({ blackoutPeriod: '1s', weightUpdatePeriod: '0.1s' });
    const weights: Record<string, number> = { [A]: 1, [B]: 2, [C]: 3 };
    const report = (r: PickComplete): void => r.onAttemptEnded!(status.OK, trailers(weights[r.subchannel.key]!), 1);
    expect(spread(300, report)).toEqual({ [A]: 100, [B]: 100, [C]: 100 }); // blackout: round robin
    clock.tick(1000);
    spread(30, report); // reports after the blackout
    clock.tick(100); // the scheduler is rebuilt on weightUpdatePeriod
    const out = spread(60_000, report);
    expect(out[A]! / 10_000).toBeCloseTo(1, 1);
    expect(out[B]! / 10_000).toBeCloseTo(2, 1);
    expect(out[C]! / 10_000).toBeCloseTo(3, 1);
  });

  it('counts an endpoint without reports at the mean weight', () => {
    start({ blackoutPeriod: '0s', weightUpdatePeriod: '0.1s' });
    const weights: Record<string, number> = { [A]: 1, [C]: 3 };
    spread(30, (r) => r.onAttemptEnded!(status.OK, weights[r.subchannel.key] === undefined ? undefined : trailers(weights[r.subchannel.key]!), 1));
    clock.tick(100);
    const out = spread(60_000);
    expect(out[B]! / out[A]!).toBeCloseTo(2, 1);
  });

  it('with enableOobLoadReport, reads an OOB stream per READY subchannel, not the trailers', () => {
    start({ enableOobLoadReport: true, oobReportingPeriod: '2s', blackoutPeriod: '0s', weightUpdatePeriod: '0.1s' });
    const streams = [A, B, C].map((key) => (fake.sub(key) as StreamingSubchannel).streams);
    for (const s of streams) {
      expect(s).toHaveLength(1);
      expect(s[0]!.method).toBe(ORCA_OOB_METHOD);
      expect(requestedIntervalMs(s[0]!.request!)).toBe(2000);
    }
    const picked = fake.last().picker.pick(pickArgs()) as PickComplete;
    expect(picked.onAttemptEnded).toBeUndefined(); // per-call reports are not parsed
    streams[0]![0]!.send({ rps_fractional: 1, application_utilization: 1 });
    streams[1]![0]!.send({ rps_fractional: 1, application_utilization: 1 });
    streams[2]![0]!.send({ rps_fractional: 4, application_utilization: 1 });
    clock.tick(100);
    const out = spread(60_000);
    expect(out[C]! / out[A]!).toBeCloseTo(4, 1);
    // A failed stream is reopened one reporting period later; UNIMPLEMENTED is not retried.
    streams[0]![0]!.end(status.UNAVAILABLE);
    streams[1]![0]!.end(status.UNIMPLEMENTED);
    clock.tick(2000);
    expect(streams[0]).toHaveLength(2);
    expect(streams[1]).toHaveLength(1);
    // Losing the connection stops the stream.
    fake.sub(C).idle();
    expect(streams[2]![0]!.cancelled).toBe(true);
  });

  it('stops the OOB streams when the config turns them off', () => {
    start({ enableOobLoadReport: true, blackoutPeriod: '0s' });
    const stream = (fake.sub(A) as StreamingSubchannel).streams[0]!;
    policy.updateEndpoints(endpoints(A, B, C), parseWeightedRoundRobinConfig({ enableOobLoadReport: false }, 'p'));
    expect(stream.cancelled).toBe(true);
    const picked = fake.last().picker.pick(pickArgs()) as PickComplete;
    expect(typeof picked.onAttemptEnded).toBe('function');
  });

  it('is round_robin-like in its states', () => {
    start({});
    fake.sub(A).idle();
    expect(fake.last().state).toBe(connectivityState.READY);
    expect(Object.keys(spread(10))).not.toContain(A);
  });
});
