/**
 * Method config fields grpc-js 1.14 parses but does not apply, applied by switchyard
 * (`doc/service_config.md`): `waitForReady`, `maxRequestMessageBytes`, `maxResponseMessageBytes`.
 */
import { createServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/channel-wait';
import { unary, unaryOutcome } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { echoConfig, rig, since, Status, type Rig } from '../helpers/resilience';

/** A loopback port nothing listens on (bound then released). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const FAST_RECONNECT = { initialReconnectBackoffMs: 100, maxReconnectBackoffMs: 200 };

let r: Rig | undefined;
afterEach(() => {
  r?.close();
  r = undefined;
});

describe('waitForReady', () => {
  let late: EchoServerHandle | undefined;
  afterEach(async () => {
    await late?.stop();
    late = undefined;
  });

  it('with waitForReady: true a call waits for a backend that is down and succeeds once it starts', async () => {
    const port = await freePort();
    r = rig([`127.0.0.1:${port}`], { serviceConfig: echoConfig({ waitForReady: true }), ...FAST_RECONNECT });
    const call = unaryOutcome(r.client, { message: 'wait' }, { timeoutMs: 20_000 });
    await sleep(300);
    late = await startEchoServer({ id: 'late', port });
    const outcome = await call;
    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.reply?.backend).toBe('late');
  });

  it('without it, a call to a backend that is down fails fast with UNAVAILABLE', async () => {
    const port = await freePort();
    r = rig([`127.0.0.1:${port}`], { serviceConfig: echoConfig({ timeout: '10s' }), ...FAST_RECONNECT });
    const start = Date.now();
    const outcome = await unaryOutcome(r.client, { message: 'fail' });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
    expect(outcome.status.details).toContain(`127.0.0.1:${port}`);
    // Fails on the connection error, not at the 10 s deadline.
    expect(since(start)).toBeLessThan(5_000);
  });

  it("the call's own waitForReady: false (a grpc-js Metadata option) overrides the method config", async () => {
    const port = await freePort();
    r = rig([`127.0.0.1:${port}`], { serviceConfig: echoConfig({ waitForReady: true }), ...FAST_RECONNECT });
    const metadata = new grpc.Metadata({ waitForReady: false });
    const outcome = await unaryOutcome(r.client, { message: 'fail' }, { timeoutMs: 10_000, metadata });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
  });
});

describe('message size limits', () => {
  let server: EchoServerHandle;
  beforeAll(async () => {
    server = await startEchoServer({ id: 'a' });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('maxRequestMessageBytes fails a larger request with RESOURCE_EXHAUSTED before it is sent', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ maxRequestMessageBytes: 100 }) });
    expect((await unary(r.client, { message: 'x'.repeat(50) })).message).toHaveLength(50);
    const outcome = await unaryOutcome(r.client, { message: 'x'.repeat(200) });
    expect(outcome.status.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toMatch(/^Sent message larger than max \(\d+ vs\. 100\)$/);
    expect(server.stats().methods.Unary.calls).toBe(1);
  });

  it('maxResponseMessageBytes fails a larger response with RESOURCE_EXHAUSTED', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ maxResponseMessageBytes: 200 }) });
    expect((await unary(r.client, { message: 'x'.repeat(50) })).message).toHaveLength(50);
    const outcome = await unaryOutcome(r.client, { message: 'x'.repeat(300) });
    expect(outcome.status.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toMatch(/^Received message larger than max \(\d+ vs\. 200\)$/);
  });
});
