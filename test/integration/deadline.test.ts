/**
 * Deadlines end to end on a switchyard channel: the method config's `timeout` (one deadline for every
 * attempt and backoff, gRFC A6), `grpc-timeout` on the wire, and `propagateDeadlines` carrying an
 * incoming call's deadline and cancellation to the calls its handler makes through a switchyard channel.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { propagateDeadlines } from '../../src/index';
import { sleep, waitFor } from '../helpers/channel-wait';
import { makeEchoClient, serverStream, unary, unaryOutcome, type EchoClient, type EchoReply, type EchoRequest } from '../helpers/echo-client';
import { echoServiceDefinition, startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { echoConfig, insecure, noJitter, retryPolicyJson, rig, since, Status, type Rig } from '../helpers/resilience';

let server: EchoServerHandle;
let r: Rig | undefined;

beforeAll(async () => {
  server = await startEchoServer({ id: 'b' });
});
afterEach(() => {
  r?.close();
  r = undefined;
  server.resetStats();
});
afterAll(async () => {
  await server.stop();
});

describe('method config timeout', () => {
  it('ends a call the server never answers with DEADLINE_EXCEEDED after about the timeout', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ timeout: '0.5s' }) });
    const start = Date.now();
    const outcome = await unaryOutcome(r.client, { hang: true });
    const elapsed = since(start);
    expect(outcome.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(5_000);
    expect(r.stats()).toMatchObject({ deadlineExceeded: 1, failed: 1 });
    // The attempt the deadline cut off ends DEADLINE_EXCEEDED too (it was reported CANCELLED before),
    // whichever timer fires first: the call's, or the transport's for the attempt's grpc-timeout.
    await r.settled();
    expect(r.events.attempts).toEqual([expect.objectContaining({ code: Status.DEADLINE_EXCEEDED })]);
  });

  it('ends a hung server stream too', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ timeout: '0.5s' }) });
    const start = Date.now();
    const error = await serverStream(r.client, { hang: true }).then(() => undefined, (e: grpc.ServiceError) => e);
    expect(error?.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(since(start)).toBeGreaterThanOrEqual(450);
  });

  it('sends the remaining budget as grpc-timeout: the server sees at most the timeout', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ timeout: '3s' }) });
    await r.ready();
    const reply = await unary(r.client, { message: 't' });
    expect(reply.deadline_remaining_ms).toBeGreaterThan(0);
    expect(reply.deadline_remaining_ms).toBeLessThanOrEqual(3_000);
    // The caller's own deadline wins when it is earlier.
    const earlier = await unary(r.client, { message: 't' }, { timeoutMs: 2_000 });
    expect(earlier.deadline_remaining_ms).toBeLessThanOrEqual(2_000);
    // Without a timeout anywhere, no grpc-timeout is sent.
    const plain = rig([server.address], {});
    try {
      expect((await unary(plain.client, { message: 't' })).deadline_remaining_ms).toBe(-1);
    } finally {
      plain.close();
    }
  });
});

describe('one deadline for every attempt (gRFC A6)', () => {
  // Each failing attempt takes 100 ms on the server, then 100 ms of backoff (jitter factor exactly 1).
  const policy = retryPolicyJson({ maxAttempts: 5, initialBackoff: '0.1s', maxBackoff: '0.1s', backoffMultiplier: 1 });

  it('a retry carries only what is left of the deadline', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ timeout: '5s', retryPolicy: policy }), random: noJitter });
    await r.ready();
    const reply = await unary(r.client, { fail_code: Status.UNAVAILABLE, fail_attempts: 2, delay_ms: 100 });
    expect(reply.attempt).toBe(2);
    // Two failed attempts (100 ms each on the server) and two backoffs (100 ms each) came first.
    expect(reply.deadline_remaining_ms).toBeLessThanOrEqual(5_000 - 400);
    expect(reply.deadline_remaining_ms).toBeGreaterThan(0);
  });

  it('the deadline ends the retries long before maxAttempts', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ timeout: '0.5s', retryPolicy: policy }), random: noJitter });
    await r.ready();
    const start = Date.now();
    const outcome = await unaryOutcome(r.client, { fail_code: Status.UNAVAILABLE, delay_ms: 100 });
    const elapsed = since(start);
    // Either the deadline fired during the third attempt, or the next retry could only have started
    // after it, in which case the call ends at once with the last attempt's status.
    expect([Status.DEADLINE_EXCEEDED, Status.UNAVAILABLE]).toContain(outcome.status.code);
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(5_000);
    expect(r.stats().attempts).toBeLessThanOrEqual(3);
  });

  it('does not wait for a pushback that ends after the deadline', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ timeout: '0.5s', retryPolicy: policy }) });
    const start = Date.now();
    const outcome = await unaryOutcome(r.client, { fail_code: Status.UNAVAILABLE, pushback_ms: '3000' });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
    expect(since(start)).toBeLessThan(3_000);
    expect(r.stats()).toMatchObject({ attempts: 1, retries: 0 });
  });
});

describe('propagateDeadlines through a switchyard channel', () => {
  let front: grpc.Server;
  let frontClient: EchoClient;
  /** A front server passing its incoming call as grpc-js's `parent` option instead. */
  let parentFront: grpc.Server;
  let parentFrontClient: EchoClient;
  let backRig: Rig;

  beforeAll(async () => {
    backRig = rig([server.address], {});
    const backClient = backRig.client;
    // Server A: forwards each request to server B after an await and a timer, through switchyard.
    const implementation = propagateDeadlines({
      async Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
        await sleep(50);
        await new Promise((resolve) => setTimeout(resolve, 50));
        unary(backClient, call.request).then((reply) => callback(null, reply), (error: grpc.ServiceError) => callback(error));
      },
    });
    front = new grpc.Server();
    front.addService(echoServiceDefinition, implementation);
    const port = await new Promise<number>((resolve, reject) =>
      front.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    frontClient = makeEchoClient(`127.0.0.1:${port}`, insecure);
    parentFront = new grpc.Server();
    parentFront.addService(echoServiceDefinition, {
      Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
        unary(backClient, call.request, { callOptions: { parent: call } }).then((reply) => callback(null, reply), (error: grpc.ServiceError) => callback(error));
      },
    });
    const parentPort = await new Promise<number>((resolve, reject) =>
      parentFront.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    parentFrontClient = makeEchoClient(`127.0.0.1:${parentPort}`, insecure);
  });
  afterAll(() => {
    frontClient.close();
    parentFrontClient.close();
    backRig.close();
    front.forceShutdown();
    parentFront.forceShutdown();
  });

  it('B sees what is left of the deadline the client gave A', async () => {
    const reply = await unary(frontClient, { message: 'via-a' }, { timeoutMs: 5_000 });
    expect(reply.backend).toBe('b');
    // A spent at least 100 ms before calling B.
    expect(reply.deadline_remaining_ms).toBeGreaterThan(0);
    expect(reply.deadline_remaining_ms).toBeLessThanOrEqual(4_900);
  });

  it("cancelling A's call cancels A's call to B, and B observes it", async () => {
    let aCall: grpc.ClientUnaryCall | undefined;
    const outcome = unaryOutcome(frontClient, { hang: true }, { timeoutMs: 20_000, onCall: (c) => (aCall = c as grpc.ClientUnaryCall) });
    await waitFor(() => server.stats().methods.Unary.calls === 1, 'B to receive the call');
    aCall!.cancel();
    expect((await outcome).status.code).toBe(Status.CANCELLED);
    await waitFor(() => server.stats().methods.Unary.cancelled === 1, 'B to see the cancellation');
    await waitFor(() => backRig.stats().failed === 1, "A's call to B to end");
    expect(backRig.events.attempts.at(-1)).toMatchObject({ code: Status.CANCELLED });
  });

  // Guards "a propagated deadline ends DEADLINE_EXCEEDED": before, the incoming call's own deadline
  // timer usually cancelled A's call to B first, which then ended CANCELLED and was not counted in
  // stats().deadlineExceeded.
  for (const [how, client] of [['propagateDeadlines', () => frontClient], ['the grpc-js parent option', () => parentFrontClient]] as const) {
    it(`the deadline the client gave A ends A's call to B as DEADLINE_EXCEEDED (${how})`, async () => {
      backRig.clearEvents();
      const outcome = await unaryOutcome(client(), { hang: true }, { timeoutMs: 400 });
      expect(outcome.status.code).toBe(Status.DEADLINE_EXCEEDED);
      await waitFor(() => backRig.stats().failed === 1, "A's call to B to end");
      expect(backRig.stats()).toMatchObject({ deadlineExceeded: 1 });
      await backRig.settled();
      expect(backRig.events.attempts).toEqual([expect.objectContaining({ code: Status.DEADLINE_EXCEEDED })]);
    });
  }
});
