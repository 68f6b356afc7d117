/**
 * weighted_round_robin (gRFC A58) over real grpc-js servers that report load with grpc-js 1.14's own
 * ORCA support (gRFC A51): per call (`grpc.server_call_metric_recording`, `call.getMetricsRecorder()`)
 * and out of band (`ServerMetricRecorder`'s `OpenRcaService`). Each server reports a fixed load, so the
 * split must follow the weights qps / utilization (4 : 2 : 1). grpc-js servers spend about 10 ms of CPU
 * per per-call report (they reload the ORCA .proto each time), so the per-call run is kept short.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createChannel, type SwitchyardChannel } from '../../../src/index';
import { waitFor, waitForState } from '../../helpers/channel-wait';
import { makeEchoClient, type EchoClient } from '../../helpers/echo-client';
import { echoServiceDefinition, type EchoReply } from '../../helpers/echo-server';
import { runLoad, shares } from './policy-harness';

const insecure = grpc.credentials.createInsecure();
/** Application utilization each server reports, with qps 100: weights 500, 250, 125. */
const UTILIZATION = [0.2, 0.4, 0.8];

interface OrcaServer {
  readonly server: grpc.Server;
  readonly address: string;
}

async function startOrcaServer(id: string, utilization: number, perCall: boolean): Promise<OrcaServer> {
  const server = new grpc.Server(perCall ? { 'grpc.server_call_metric_recording': 1 } : {});
  server.addService(echoServiceDefinition, {
    Unary(call: grpc.ServerUnaryCall<{ message: string }, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      const recorder = call.getMetricsRecorder();
      recorder.recordApplicationUtilizationMetric(utilization);
      recorder.recordQpsMetric(100);
      callback(null, { message: call.request.message, backend: id, attempt: 0, deadline_remaining_ms: 0, authority: '', metadata: {} });
    },
  });
  const oob = new grpc.ServerMetricRecorder();
  oob.setApplicationUtilizationMetric(utilization);
  oob.setQpsMetric(100);
  oob.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, address: `127.0.0.1:${port}` };
}

describe.each([
  ['per-call reports (endpoint-load-metrics-bin)', {}, 350, true],
  ['out-of-band reports (StreamCoreMetrics)', { enableOobLoadReport: true, oobReportingPeriod: '0.05s' }, 1400, false],
])('weighted_round_robin with %s', (_name, extra, calls, perCall) => {
  let servers: OrcaServer[] = [];
  let channel: SwitchyardChannel | undefined;
  let client: EchoClient | undefined;

  afterEach(() => {
    client?.close();
    channel?.close();
    for (const s of servers) s.server.forceShutdown();
    servers = [];
  });

  // Breaking the ORCA decoding, the per-call hook or the OOB stream leaves the split at 1 : 1 : 1.
  it('splits calls 4 : 2 : 1 as the servers\' reported weights say, within 10 %', { timeout: 120_000 }, async () => {
    servers = await Promise.all(UTILIZATION.map((u, i) => startOrcaServer(`b${i}`, u, perCall)));
    const target = `ipv4:${servers.map((s) => s.address).join(',')}`;
    channel = createChannel(target, insecure, {
      serviceConfig: {
        loadBalancingConfig: [{ weighted_round_robin: { blackoutPeriod: '0.2s', weightUpdatePeriod: '0.1s', ...extra } }],
      },
    });
    client = makeEchoClient(target, insecure, { channelOverride: channel });
    await waitForState(channel, grpc.connectivityState.READY);
    const c = client;
    // Weights become usable after the blackout; wait until the split shows them.
    await waitFor(async () => {
      const counts = shares(await runLoad(c, 70, 4));
      return (counts['b0'] ?? 0) > 2.5 * (counts['b2'] ?? 0);
    }, 'weights in use', 30_000);
    const counts = shares(await runLoad(c, calls, 8));
    for (const [id, expected] of [['b0', (calls * 4) / 7], ['b1', (calls * 2) / 7], ['b2', calls / 7]] as const) {
      expect(Math.abs(counts[id]! - expected) / expected, `${id}: ${JSON.stringify(counts)}`).toBeLessThanOrEqual(0.1);
    }
  });
});
