/**
 * pick_first's reactions that the balancing policies built on it rely on: recovery from a resolver
 * failure (issue 9: sticky TRANSIENT_FAILURE is for connection failures only, as in grpc-go's
 * pickfirst) and the generic health reporting of gRFC A61 (a READY subchannel turning unhealthy is
 * reported, not treated as a lost connection).
 */
import { connectivityState, status } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPickFirstPolicy } from '../../../src/picker/pick-first';
import type { LoadBalancingPolicy, PickResult } from '../../../src/picker/types';
import { createFakeHelper, endpoints, pickArgs, type FakeHelper } from '../../helpers/fake-subchannel';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE } = connectivityState;
const A = '127.0.0.1:1001';
const B = '127.0.0.2:1002';

describe('pick_first', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeHelper;
  let policy: LoadBalancingPolicy;
  const pick = (): PickResult => fake.last().picker.pick(pickArgs());

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    fake = createFakeHelper();
    policy = createPickFirstPolicy(fake.helper);
  });

  afterEach(() => {
    policy.close();
    expect(fake.released).toBe(fake.acquired);
    clock.restore();
  });

  describe('after a resolver failure (issue 9)', () => {
    // Breaking it (keeping the resolver's TRANSIENT_FAILURE sticky, as before) leaves the last state
    // TRANSIENT_FAILURE and the pick failing with the old resolver error.
    it('goes CONNECTING when a good list follows a resolver error, so fail-fast picks wait for the connection', () => {
      policy.resolverError('DNS lookup failed: ENOTFOUND');
      expect(fake.last().state).toBe(TRANSIENT_FAILURE);
      policy.updateEndpoints(endpoints(A), {});
      expect(fake.last().state).toBe(CONNECTING);
      expect(pick()).toEqual({ type: 'queue' });
      fake.sub(A).ready();
      expect(fake.last().state).toBe(READY);
    });

    it('goes CONNECTING when a good list follows an empty one', () => {
      policy.updateEndpoints([], {});
      expect(fake.last().state).toBe(TRANSIENT_FAILURE);
      policy.updateEndpoints(endpoints(A), {});
      expect(fake.last().state).toBe(CONNECTING);
      expect(pick()).toEqual({ type: 'queue' });
    });

    it('still keeps a TRANSIENT_FAILURE from connection failures across a new list (gRFC A62)', () => {
      policy.updateEndpoints(endpoints(A), {});
      fake.sub(A).fail();
      policy.updateEndpoints(endpoints(B), {});
      expect(fake.last().state).toBe(TRANSIENT_FAILURE);
      const result = pick();
      expect(result.type === 'fail' && result.status.code).toBe(status.UNAVAILABLE);
    });
  });

  describe('health signals on the selected subchannel (gRFC A61 generic health reporting)', () => {
    // Breaking it (treating READY -> TRANSIENT_FAILURE as a lost connection) releases the subchannel and
    // reports IDLE: refs drop to 0 and the state assertions fail.
    it('reports TRANSIENT_FAILURE while unhealthy, keeps the connection, and READY again with the same result', () => {
      policy.updateEndpoints(endpoints(A, B), {});
      fake.sub(A).ready();
      const healthy = pick();
      fake.sub(A).setState(TRANSIENT_FAILURE, 'health check of 127.0.0.1:1001 (service ""): NOT_SERVING');
      expect(fake.last().state).toBe(TRANSIENT_FAILURE);
      expect(fake.last().error).toContain('NOT_SERVING');
      const failed = pick();
      expect(failed.type === 'fail' && failed.status.details).toContain('NOT_SERVING');
      expect(fake.refs.get(A)).toBe(1);
      expect(fake.reresolutions).toBe(0);
      fake.sub(A).setState(CONNECTING); // a health stream restarting
      expect(fake.last().state).toBe(CONNECTING);
      fake.sub(A).ready();
      expect(fake.last().state).toBe(READY);
      expect(pick()).toBe(healthy);
    });

    it('still treats IDLE as a lost connection', () => {
      policy.updateEndpoints(endpoints(A), {});
      fake.sub(A).ready();
      fake.sub(A).setState(TRANSIENT_FAILURE, 'unhealthy');
      fake.sub(A).idle();
      expect(fake.last().state).toBe(IDLE);
      expect(fake.refs.get(A)).toBe(0);
      expect(fake.reresolutions).toBe(1);
    });

    it('goes CONNECTING (not sticky) when a list without the unhealthy address arrives', () => {
      policy.updateEndpoints(endpoints(A), {});
      fake.sub(A).ready();
      fake.sub(A).setState(TRANSIENT_FAILURE, 'unhealthy');
      policy.updateEndpoints(endpoints(B), {});
      expect(fake.last().state).toBe(CONNECTING);
    });
  });
});
