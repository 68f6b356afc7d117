/**
 * gRFC A6 retry throttling end to end ("Throttling Retry Attempts and Hedged RPCs"): with
 * `retryThrottling {maxTokens: 10, tokenRatio: 0.1}` the channel's bucket starts at 10 tokens, every
 * retryable (or non-fatal) failure costs 1, every success adds 0.1, and retries and hedges are sent
 * only while tokens > 5. Calls run one at a time, so every count below follows from that trace.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { unary, unaryOutcome } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { echoConfig, retryPolicyJson, rig, Status, type Rig } from '../helpers/resilience';

const THROTTLING = { retryThrottling: { maxTokens: 10, tokenRatio: 0.1 } };
const METHOD = '/switchyard.demo.Echo/Unary';

let server: EchoServerHandle;
let r: Rig | undefined;

beforeAll(async () => {
  server = await startEchoServer({ id: 'a' });
});
afterEach(() => {
  r?.close();
  r = undefined;
  server.resetStats();
});
afterAll(async () => {
  await server.stop();
});

/** One call that always fails UNAVAILABLE; returns the attempts it made. */
async function failingCall(rg: Rig): Promise<number> {
  const before = rg.stats().attempts;
  const outcome = await unaryOutcome(rg.client, { fail_code: Status.UNAVAILABLE });
  expect(outcome.status.code).toBe(Status.UNAVAILABLE);
  await rg.settled();
  return rg.stats().attempts - before;
}

describe('retry throttling', () => {
  it('stops retrying once the tokens fall to half, and resumes after successes refill them', async () => {
    r = rig([server.address], {
      serviceConfig: echoConfig({ retryPolicy: retryPolicyJson({ maxAttempts: 5, initialBackoff: '0.001s', maxBackoff: '0.001s' }) }, THROTTLING),
    });
    const rg = r;
    expect(rg.stats().tokens).toBe(10);
    // 10 → 9 → 8 → 7 → 6 (each still > 5: retry) → 5 at the fifth attempt, which is the last one anyway.
    expect(await failingCall(rg)).toBe(5);
    expect(rg.stats().tokens).toBe(5);
    expect(rg.events.throttled).toEqual([]);
    // 5 → 4: not > 5, so the retry is refused at once: one attempt per call.
    expect(await failingCall(rg)).toBe(1);
    expect(await failingCall(rg)).toBe(1);
    expect(await failingCall(rg)).toBe(1);
    expect(rg.stats()).toMatchObject({ tokens: 2, throttled: 3, retries: 4, attempts: 8, failed: 4 });
    expect(rg.events.throttled).toEqual([
      { method: METHOD, kind: 'retry', tokens: 4 },
      { method: METHOD, kind: 'retry', tokens: 3 },
      { method: METHOD, kind: 'retry', tokens: 2 },
    ]);
    expect(rg.events.backoffs.length).toBe(4);

    // 41 successes: 2 + 41 × 0.1 = 6.1 tokens (exact: the bucket counts milli-tokens).
    for (let i = 0; i < 41; i++) await unary(rg.client, { message: 'ok' });
    expect(rg.stats().tokens).toBe(6.1);
    // 6.1 → 5.1 (> 5: retry) → 4.1 (throttled).
    expect(await failingCall(rg)).toBe(2);
    expect(rg.stats().tokens).toBe(4.1);
    expect(rg.events.throttled.at(-1)).toEqual({ method: METHOD, kind: 'retry', tokens: 4.1 });
    expect(rg.stats()).toMatchObject({ throttled: 4, retries: 5 });
    expect(server.stats().methods.Unary.calls).toBe(8 + 41 + 2);
  });

  it('a non-retryable code costs no token', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ retryPolicy: retryPolicyJson() }, THROTTLING) });
    const outcome = await unaryOutcome(r.client, { fail_code: Status.INVALID_ARGUMENT });
    expect(outcome.status.code).toBe(Status.INVALID_ARGUMENT);
    expect(r.stats().tokens).toBe(10);
  });

  // gRFC A6: "Every outgoing RPC (regardless of service or method invoked)" moves the bucket. Counting
  // only calls with a policy (as before) leaves the tokens at 10 throughout and fails every check below.
  it('counts calls of methods without a policy: successes refill, a "do not retry" pushback costs a token', async () => {
    r = rig([server.address], { serviceConfig: echoConfig({ retryPolicy: retryPolicyJson() }, THROTTLING, 'ServerStream') });
    const rg = r;
    // Unary has no retry policy, so no code is retryable for it: a plain failure costs nothing ...
    expect((await unaryOutcome(rg.client, { fail_code: Status.UNAVAILABLE })).status.code).toBe(Status.UNAVAILABLE);
    expect(rg.stats().tokens).toBe(10);
    // ... but the server's "do not retry" pushback does (A6; grpc-go counts it the same way).
    for (let i = 0; i < 3; i++) await unaryOutcome(rg.client, { fail_code: Status.UNAVAILABLE, pushback_ms: '-1' });
    expect(rg.stats().tokens).toBe(7);
    for (let i = 0; i < 10; i++) await unary(rg.client, { message: 'ok' });
    expect(rg.stats().tokens).toBe(8);
  });

  it('throttles hedges too', async () => {
    r = rig([server.address], {
      serviceConfig: echoConfig({ hedgingPolicy: { maxAttempts: 3, hedgingDelay: '0s', nonFatalStatusCodes: ['UNAVAILABLE'] } }, THROTTLING),
    });
    const rg = r;
    // hedgingDelay 0: all three attempts start at once while tokens > 5; each failure costs 1.
    expect(await failingCall(rg)).toBe(3);
    expect(rg.stats().tokens).toBe(7);
    expect(await failingCall(rg)).toBe(3);
    expect(rg.stats().tokens).toBe(4);
    expect(rg.events.throttled).toEqual([]);
    // 4 is not > 5: only the original attempt goes; the first hedge is refused and ends hedging.
    expect(await failingCall(rg)).toBe(1);
    expect(await failingCall(rg)).toBe(1);
    expect(rg.events.throttled).toEqual([
      { method: METHOD, kind: 'hedge', tokens: 4 },
      { method: METHOD, kind: 'hedge', tokens: 3 },
    ]);
    expect(rg.stats()).toMatchObject({ tokens: 2, throttled: 2, hedges: 4, attempts: 8 });
  });
});
