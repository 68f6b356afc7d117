import { connectivityState } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  aggregateConnectivityState,
  countState,
  effectiveChildState,
  type MutableConnectivityCounts,
} from '../../../src/picker/aggregate';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN } = connectivityState;

function counts(partial: Partial<MutableConnectivityCounts>): MutableConnectivityCounts {
  return { ready: 0, connecting: 0, idle: 0, transientFailure: 0, ...partial };
}

describe('aggregateConnectivityState', () => {
  it('is READY when any child is READY', () => {
    expect(aggregateConnectivityState(counts({ ready: 1, transientFailure: 5, connecting: 2 }))).toBe(READY);
  });

  it('is CONNECTING when none is READY and any is CONNECTING or IDLE', () => {
    expect(aggregateConnectivityState(counts({ connecting: 1, transientFailure: 3 }))).toBe(CONNECTING);
    expect(aggregateConnectivityState(counts({ idle: 1, transientFailure: 3 }))).toBe(CONNECTING);
  });

  it('is TRANSIENT_FAILURE when every child failed, or there are none', () => {
    expect(aggregateConnectivityState(counts({ transientFailure: 3 }))).toBe(TRANSIENT_FAILURE);
    expect(aggregateConnectivityState(counts({}))).toBe(TRANSIENT_FAILURE);
  });
});

describe('effectiveChildState', () => {
  it('keeps a failed child TRANSIENT_FAILURE until it is READY again', () => {
    expect(effectiveChildState(IDLE, true)).toBe(TRANSIENT_FAILURE);
    expect(effectiveChildState(CONNECTING, true)).toBe(TRANSIENT_FAILURE);
    expect(effectiveChildState(READY, true)).toBe(READY);
  });

  it('passes through the raw state of a child that has not failed', () => {
    expect(effectiveChildState(IDLE, false)).toBe(IDLE);
    expect(effectiveChildState(CONNECTING, false)).toBe(CONNECTING);
    expect(effectiveChildState(SHUTDOWN, false)).toBe(TRANSIENT_FAILURE);
  });

  it('feeds countState', () => {
    const tally = counts({});
    for (const [raw, failed] of [
      [READY, false],
      [CONNECTING, true],
      [CONNECTING, false],
      [IDLE, false],
    ] as const) {
      countState(tally, effectiveChildState(raw, failed));
    }
    expect(tally).toEqual({ ready: 1, connecting: 1, idle: 1, transientFailure: 1 });
  });
});
