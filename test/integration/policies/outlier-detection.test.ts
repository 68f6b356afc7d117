/**
 * outlier_detection (gRFC A50) over real grpc-js backends: a backend failing half of its calls is
 * ejected (its calls stop) with the config written in grpc-js 1.14's form, and health checking
 * (gRFC A17) composes with the new policies: an unhealthy backend gets no calls.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor, waitForState } from '../../helpers/channel-wait';
import { runLoad, shares, startRig, type PolicyRig } from './policy-harness';

let rig: PolicyRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('outlier_detection(round_robin)', () => {
  // Breaking ejection (or the call-result counting through the pick hook) leaves b3 in the rotation:
  // every window keeps about a quarter of its calls on b3 and the wait times out.
  it('ejects a backend failing 50 % of its calls; the others then serve every call', { timeout: 120_000 }, async () => {
    rig = await startRig([{}, {}, {}, { behaviour: { failRate: 0.5 } }], {
      // grpc-js 1.14's form (snake_case, {seconds, nanos}): accepted unchanged.
      loadBalancingConfig: [{
        outlier_detection: {
          interval: { seconds: 0, nanos: 500_000_000 },
          base_ejection_time: { seconds: 60 },
          max_ejection_percent: 50,
          failure_percentage_ejection: { threshold: 30, enforcement_percentage: 100, minimum_hosts: 3, request_volume: 10 },
          child_policy: [{ round_robin: {} }],
        },
      }],
    });
    await waitForState(rig.channel, grpc.connectivityState.READY);
    const client = rig.client;
    await waitFor(async () => (shares(await runLoad(client, 80, 4))['b3'] ?? 0) === 0, 'b3 to be ejected', 30_000);
    const counts = shares(await runLoad(client, 300, 8));
    expect(counts, JSON.stringify(counts)).not.toHaveProperty('b3');
    expect(Object.keys(counts).filter((k) => k.startsWith('error'))).toEqual([]);
  });
});

describe('health checking (gRFC A17) under the new policies', () => {
  // Breaking the composition (pick_first children treating an unhealthy READY subchannel as lost, or
  // the channel not wrapping subchannels for these policies) sends calls to b1 again.
  it.each([
    ['least_request', { least_request: {} }],
    ['outlier_detection(round_robin)', { outlier_detection: { childPolicy: [{ round_robin: {} }], failurePercentageEjection: {} } }],
  ])('%s sends nothing to a NOT_SERVING backend, and uses it again once SERVING', { timeout: 120_000 }, async (_name, policy) => {
    rig = await startRig([{}, {}], { loadBalancingConfig: [policy], healthCheckConfig: { serviceName: 'switchyard.demo.Echo' } });
    const health = [true, false].map((serving, i) => addHealthService(rig!.servers[i]!.server, serving));
    await waitForState(rig.channel, grpc.connectivityState.READY);
    const counts = shares(await runLoad(rig.client, 60, 4));
    expect(counts, JSON.stringify(counts)).toEqual({ b0: 60 });
    health[1]!.set(true);
    const client = rig.client;
    await waitFor(async () => (shares(await runLoad(client, 20, 2))['b1'] ?? 0) > 0, 'b1 to serve again');
  });
});

/** A minimal `grpc.health.v1.Health/Watch` on `server`: one status for every service, pushed to every watcher. */
function addHealthService(server: grpc.Server, serving: boolean): { set(serving: boolean): void } {
  const identity = (value: Buffer): Buffer => value;
  const watchers = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();
  let current = serving;
  // HealthCheckResponse { status: SERVING (1) | NOT_SERVING (2) }.
  const encode = (): Buffer => Buffer.from([0x08, current ? 1 : 2]);
  server.addService(
    { Watch: { path: '/grpc.health.v1.Health/Watch', requestStream: false, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
    {
      Watch(call: grpc.ServerWritableStream<Buffer, Buffer>) {
        watchers.add(call);
        call.on('cancelled', () => watchers.delete(call));
        call.write(encode());
      },
    },
  );
  return {
    set(next) {
      current = next;
      for (const call of watchers) call.write(encode());
    },
  };
}
