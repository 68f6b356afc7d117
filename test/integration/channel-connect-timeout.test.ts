/**
 * A black-holed address (a loopback listener that accepts TCP and never answers) through a switchyard
 * channel: the connect attempt is abandoned after the connect timeout (`doc/connection-backoff.md`
 * MIN_CONNECT_TIMEOUT), the channel goes TRANSIENT_FAILURE, ordinary calls fail fast with UNAVAILABLE
 * naming the target and the last error, and wait-for-ready calls wait: they succeed once DNS points to
 * a real backend, or end at their deadline.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, type SwitchyardChannel } from '../../src/index';
import { startBlackHole, type BlackHole } from '../helpers/blackhole';
import { sleep, waitFor, waitForState } from '../helpers/channel-wait';
import { checkDnsServerAvailable, startDnsServer, type TestDnsServer } from '../helpers/dns-server';
import { makeEchoClient, unaryOutcome, type EchoClient } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';

const insecure = grpc.credentials.createInsecure();
const NAME = 'hole.switchyard.test';
const BLACK_HOLE_IP = '127.0.0.5';
const BACKEND_IP = '127.0.0.6';

/** grpc-js reads wait-for-ready from the metadata options. */
function waitForReady(): grpc.Metadata {
  return new grpc.Metadata({ waitForReady: true });
}

describe.skipIf(!checkDnsServerAvailable())('connect timeout to a black hole', () => {
  let hole: BlackHole;
  let dns: TestDnsServer;
  let backend: EchoServerHandle | undefined;
  let channel: SwitchyardChannel;
  let client: EchoClient;
  let target: string;

  beforeAll(async () => {
    hole = await startBlackHole(BLACK_HOLE_IP);
    dns = await startDnsServer({ records: { [NAME]: [BLACK_HOLE_IP] } });
    target = `dns://${dns.address}/${NAME}:${hole.port}`;
  });
  afterEach(async () => {
    client?.close();
    channel?.close();
    await backend?.stop(100);
    backend = undefined;
    dns.setRecords(NAME, [BLACK_HOLE_IP]);
    await dns.reload();
  });
  afterAll(async () => {
    await dns?.stop();
    await hole?.close();
  });

  function open(): void {
    channel = createChannel(target, insecure, {
      minConnectTimeoutMs: 500,
      initialReconnectBackoffMs: 200,
      maxReconnectBackoffMs: 1_000,
      dnsRefreshIntervalMs: 1_000,
      minResolutionIntervalMs: 200,
    });
    client = makeEchoClient(target, insecure, { channelOverride: channel });
  }

  it('goes TRANSIENT_FAILURE and fails calls fast with UNAVAILABLE naming the target and the last error', async () => {
    open();
    await waitForState(channel, grpc.connectivityState.TRANSIENT_FAILURE, 15_000);
    expect(hole.accepted()).toBeGreaterThan(0);

    const started = Date.now();
    const outcome = await unaryOutcome(client, { message: 'x' }, { timeoutMs: 30_000 });
    // Fails at once instead of waiting for the 30 s deadline (bound kept loose for a busy machine).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(outcome.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(outcome.error?.details).toContain(target);
    expect(outcome.error?.details).toContain(`${BLACK_HOLE_IP}:${hole.port}`);
    expect(outcome.error?.details).toMatch(/timed out/);
  });

  it('lets a wait-for-ready call end at its deadline', async () => {
    open();
    await waitForState(channel, grpc.connectivityState.TRANSIENT_FAILURE, 15_000);
    const started = Date.now();
    const outcome = await unaryOutcome(client, { message: 'x' }, { timeoutMs: 1_500, metadata: waitForReady() });
    expect(outcome.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // It waited (did not fail fast); the lower bound allows for timer coarseness.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
  });

  it('lets the caller cancel a wait-for-ready call while it waits', async () => {
    open();
    await waitForState(channel, grpc.connectivityState.TRANSIENT_FAILURE, 15_000);
    let call: grpc.Call | undefined;
    const outcome = unaryOutcome(client, { message: 'x' }, { timeoutMs: 30_000, metadata: waitForReady(), onCall: (c) => (call = c) });
    await sleep(200);
    call!.cancel();
    expect((await outcome).error?.code).toBe(grpc.status.CANCELLED);
  });

  it('lets a wait-for-ready call succeed once DNS points to a real backend', async () => {
    open();
    await waitForState(channel, grpc.connectivityState.TRANSIENT_FAILURE, 15_000);
    const attemptsBefore = hole.accepted();
    const call = unaryOutcome(client, { message: 'waited' }, { timeoutMs: 30_000, metadata: waitForReady() });
    let settled = false;
    void call.then(() => (settled = true));
    // Still waiting after a few failed connect attempts.
    await waitFor(() => hole.accepted() >= attemptsBefore + 2, 'more connect attempts to the black hole');
    expect(settled).toBe(false);

    backend = await startEchoServer({ id: 'real', host: BACKEND_IP, port: hole.port });
    dns.setRecords(NAME, [BACKEND_IP]);
    await dns.reload();
    const outcome = await call;
    expect(outcome.error).toBeUndefined();
    expect(outcome.reply).toMatchObject({ message: 'waited', backend: 'real' });
    expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
  });
});
