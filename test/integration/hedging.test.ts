/**
 * gRFC A6 hedging end to end: a switchyard channel with round_robin over three in-process echo servers,
 * one fast and two slow (a server-wide delay).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/channel-wait';
import { serverStream, unary, unaryOutcome, type EchoReply } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { echoConfig, rig, since, Status, type Rig } from '../helpers/resilience';

/** Long enough never to answer within a test; servers are stopped at the end. */
const SLOW_MS = 10_000;
const ROUND_ROBIN = { loadBalancingConfig: [{ round_robin: {} }] };

let fast: EchoServerHandle;
let slow1: EchoServerHandle;
let slow2: EchoServerHandle;
let servers: EchoServerHandle[];
let r: Rig | undefined;

beforeAll(async () => {
  servers = await Promise.all(['fast', 'slow1', 'slow2'].map((id) => startEchoServer({ id })));
  [fast, slow1, slow2] = servers as [EchoServerHandle, EchoServerHandle, EchoServerHandle];
});
afterEach(() => {
  r?.close();
  r = undefined;
  for (const s of servers) {
    s.setBehaviour({});
    s.resetStats();
  }
});
afterAll(() => {
  for (const s of servers) s.forceStop();
});

/** A channel hedging every echo method, connected to all three backends before the test starts. */
async function hedgingRig(policy: Record<string, unknown>): Promise<Rig> {
  r = rig(servers.map((s) => s.address), {
    serviceConfig: echoConfig({ hedgingPolicy: { maxAttempts: 3, nonFatalStatusCodes: ['UNAVAILABLE'], ...policy } }, ROUND_ROBIN),
  });
  const { client } = r;
  // round_robin's picker holds only READY backends: call until each has answered once.
  await waitFor(async () => {
    await unary(client, { message: 'warm-up' });
    return servers.every((s) => s.stats().methods.Unary.calls > 0);
  }, 'every backend to serve a call');
  await r.settled();
  r.clearEvents();
  for (const s of servers) s.resetStats();
  return r;
}

function slowDown(): void {
  slow1.setBehaviour({ delayMs: SLOW_MS });
  slow2.setBehaviour({ delayMs: SLOW_MS });
}

const cancelledOnSlow = (): number => slow1.stats().total.cancelled + slow2.stats().total.cancelled;

describe('hedging policy', () => {
  it('the fastest backend wins; the other attempts are cancelled and the slow servers see it', async () => {
    const rg = await hedgingRig({ hedgingDelay: '0.05s' });
    slowDown();
    let hedgedCalls = 0;
    // round_robin rotates: whenever a call starts on the fast backend, the next one starts on a slow one.
    for (let i = 0; i < 3; i++) {
      const before = rg.stats();
      const start = Date.now();
      const reply: EchoReply = await unary(rg.client, { message: `h${i}` });
      expect(since(start)).toBeLessThan(SLOW_MS / 2);
      expect(reply.backend).toBe('fast');
      await rg.settled();
      const after = rg.stats();
      const attempts = rg.events.attempts.slice(before.attempts);
      expect(attempts.length).toBe(after.attempts - before.attempts);
      // Hedges go to distinct backends (round_robin skips the ones this call already used).
      expect(new Set(attempts.map((e) => e.endpoint)).size).toBe(attempts.length);
      // The winner's `grpc-previous-rpc-attempts` is its attempt number minus one.
      const winner = attempts.find((e) => e.committed)!;
      expect(winner).toMatchObject({ endpoint: fast.address, code: Status.OK });
      expect(reply.attempt).toBe(winner.attempt - 1);
      for (const loser of attempts.filter((e) => !e.committed)) expect(loser.code).toBe(Status.CANCELLED);
      if (attempts.length > 1) hedgedCalls++;
    }
    expect(hedgedCalls).toBeGreaterThan(0);
    const stats = rg.stats();
    expect(stats).toMatchObject({ calls: 3, succeeded: 3, hedges: stats.attempts - 3 });
    // Every attempt that reached a slow server was cancelled there (RST_STREAM seen by the server).
    await waitFor(() => cancelledOnSlow() === stats.attempts - 3, 'the slow servers to see the cancellations');
    expect(slow1.stats().methods.Unary.calls + slow2.stats().methods.Unary.calls).toBe(stats.attempts - 3);
  });

  it('sends the hedges one hedgingDelay apart while nobody answers', async () => {
    const rg = await hedgingRig({ hedgingDelay: '0.2s' });
    for (const s of servers) s.setBehaviour({ delayMs: SLOW_MS });
    const start = Date.now();
    const outcome = await unaryOutcome(rg.client, { message: 'slow' }, { timeoutMs: 1_500 });
    expect(outcome.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(since(start)).toBeGreaterThanOrEqual(1_450);
    expect(rg.stats()).toMatchObject({ attempts: 3, hedges: 2 });
    expect(servers.map((s) => s.stats().methods.Unary.calls)).toEqual([1, 1, 1]);
  });

  it('a fatal status code ends the call at once and cancels the other attempts', async () => {
    const rg = await hedgingRig({ hedgingDelay: '0.05s' });
    slowDown();
    fast.setBehaviour({ failRate: 1, failCode: Status.INVALID_ARGUMENT });
    let hedgedCalls = 0;
    // As above: of two consecutive calls, at least one starts on a slow backend and hedges.
    for (let i = 0; i < 2; i++) {
      const before = rg.stats();
      const start = Date.now();
      const outcome = await unaryOutcome(rg.client, { message: 'fatal' });
      expect(outcome.status.code).toBe(Status.INVALID_ARGUMENT);
      expect(since(start)).toBeLessThan(SLOW_MS / 2);
      await rg.settled();
      const attempts = rg.stats().attempts - before.attempts;
      if (attempts > 1) hedgedCalls++;
      expect(rg.events.commits[i]).toMatchObject({ endpoint: fast.address, reason: 'status' });
    }
    expect(hedgedCalls).toBeGreaterThan(0);
    const stats = rg.stats();
    await waitFor(() => cancelledOnSlow() === stats.attempts - 2, 'the slow servers to see the cancellations');
  });

  it('hedges server-streaming calls too', async () => {
    const rg = await hedgingRig({ hedgingDelay: '0.05s' });
    slowDown();
    for (let i = 0; i < 2; i++) {
      const replies = await serverStream(rg.client, { message: 'stream', response_count: 3 });
      expect(replies.map((x) => x.backend)).toEqual(['fast', 'fast', 'fast']);
    }
    await rg.settled();
    expect(rg.stats().hedges).toBeGreaterThan(0);
  });

  it('a non-fatal status code sends the next hedge at once', async () => {
    const rg = await hedgingRig({ hedgingDelay: '10s' });
    const start = Date.now();
    // Fails on the first attempt only (no grpc-previous-rpc-attempts), whichever backend gets it.
    const reply = await unary(rg.client, { message: 'nf', fail_code: Status.UNAVAILABLE, fail_attempts: 1 });
    expect(since(start)).toBeLessThan(5_000);
    expect(reply.attempt).toBe(1);
    await rg.settled();
    expect(rg.events.attempts.map((e) => [e.attempt, e.kind, e.code])).toEqual([
      [1, 'initial', Status.UNAVAILABLE],
      [2, 'hedge', Status.OK],
    ]);
    expect(rg.events.attempts[0]!.endpoint).not.toBe(rg.events.attempts[1]!.endpoint);
  });

  it('ends with the last non-fatal failure when every attempt failed', async () => {
    const rg = await hedgingRig({ hedgingDelay: '10s' });
    const outcome = await unaryOutcome(rg.client, { message: 'all', fail_code: Status.UNAVAILABLE });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
    expect(outcome.status.details).toMatch(/requested failure \(attempt 2\)$/);
    await rg.settled();
    expect(rg.events.attempts.map((e) => [e.attempt, e.committed])).toEqual([[1, false], [2, false], [3, false]]);
    // The outcome is the last failure: the commit event names it.
    expect(rg.events.commits).toEqual([expect.objectContaining({ attempt: 3, reason: 'status' })]);
    expect(rg.stats()).toMatchObject({ attempts: 3, hedges: 2, failed: 1 });
  });
});
