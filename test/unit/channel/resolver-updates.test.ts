import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createChannel, registerLoadBalancingPolicy, registerResolver, type Endpoint, type ResolverUpdate } from '../../../src/index';

const { TRANSIENT_FAILURE, READY } = grpc.connectivityState;

// A resolver whose next answer the test sets, and a policy that records what it is given: no network.
const answers = new Map<string, ResolverUpdate>();
registerResolver({
  scheme: 'updates-test',
  defaultAuthority: (target) => target.path,
  create: (target, listener) => ({
    requestResolution: () => queueMicrotask(() => listener.onUpdate(answers.get(target.path)!)),
    close: () => {},
  }),
});
const received: Array<{ endpoints: readonly Endpoint[]; errors: string[] }> = [];
registerLoadBalancingPolicy({
  name: 'recording_policy',
  parseConfig: () => ({}),
  create: (helper) => ({
    updateEndpoints: (endpoints) => {
      received.push({ endpoints, errors: [] });
      helper.updateState(READY, { pick: () => ({ type: 'fail', status: { code: grpc.status.UNAVAILABLE, details: 'x' } }) });
    },
    resolverError: (error) => {
      received.push({ endpoints: [], errors: [error] });
      helper.updateState(TRANSIENT_FAILURE, { pick: () => ({ type: 'fail', status: { code: grpc.status.UNAVAILABLE, details: error } }) }, error);
    },
    exitIdle: () => {},
    close: () => {},
  }),
});

const endpoint = (i: number): Endpoint => ({ addresses: [{ host: '127.0.0.1', port: 1000 + i }] });
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('channel handling of resolver updates', () => {
  it('cuts an endpoint list longer than maxEndpoints and reports it', async () => {
    received.length = 0;
    answers.set('long', { endpoints: [0, 1, 2, 3, 4].map(endpoint) });
    const channel = createChannel('updates-test:long', grpc.credentials.createInsecure(), {
      maxEndpoints: 3,
      serviceConfig: { loadBalancingConfig: [{ recording_policy: {} }] },
    });
    const errors: Error[] = [];
    channel.events.on('error', (error) => errors.push(error));
    channel.getConnectivityState(true);
    await settle();
    expect(received[0]!.endpoints.map((e) => (e.addresses[0] as { port: number }).port)).toEqual([1000, 1001, 1002]);
    expect(errors.map((e) => e.message)).toEqual(['resolver returned 5 endpoints; using the first 3 (options.maxEndpoints)']);
    channel.close();
  });

  it('goes TRANSIENT_FAILURE when the first service config from the resolver is invalid and there is no default (gRFC A21)', async () => {
    received.length = 0;
    answers.set('badconfig', {
      endpoints: [endpoint(0)],
      serviceConfig: { loadBalancingConfig: [{ recording_policy: {} }], methodConfig: [{ name: [{ method: 'm' }] }] },
    });
    const channel = createChannel('updates-test:badconfig', grpc.credentials.createInsecure());
    const errors: Error[] = [];
    channel.events.on('error', (error) => errors.push(error));
    channel.getConnectivityState(true);
    await settle();
    expect(channel.getConnectivityState(false)).toBe(TRANSIENT_FAILURE);
    expect(errors[0]?.message).toMatch(/^methodConfig\[0\]\.name\[0\]/);
    channel.close();
  });

  it('keeps the application default config when the resolver config is invalid (gRFC A21)', async () => {
    received.length = 0;
    answers.set('fallback', { endpoints: [endpoint(0)], serviceConfig: '{not json' });
    const channel = createChannel('updates-test:fallback', grpc.credentials.createInsecure(), {
      serviceConfig: { loadBalancingConfig: [{ recording_policy: {} }] },
    });
    const errors: Error[] = [];
    channel.events.on('error', (error) => errors.push(error));
    channel.getConnectivityState(true);
    await settle();
    expect(received).toHaveLength(1);
    expect(received[0]!.endpoints).toHaveLength(1);
    expect(errors).toHaveLength(1);
    channel.close();
  });
});
