/**
 * Logs what switchyard's retry machinery does, one line per event (`npx tsx examples/log-retries.ts`).
 *
 * Starts one flaky echo backend in this process (it fails half of its calls with UNAVAILABLE, decided by
 * a seeded random generator so every run prints the same story), opens a switchyard channel whose
 * service config retries UNAVAILABLE (gRFC A6: `maxAttempts` 4, backoff 50 ms × 2^(n-1) ± 20 %) under
 * retry throttling, makes a few calls one after the other and prints every `attempt`, `backoff`,
 * `commit` and `throttled` event, then the channel's `stats()`. Exits 0 when done.
 */
import * as grpc from '@grpc/grpc-js';
import { createChannel, type SwitchyardChannel } from 'switchyard';
import { ECHO_SERVICE_NAME, EchoClient, type EchoReply } from './backend/echo-proto';
import { startEchoServer } from './backend/echo-server';

const CALLS = 8;

const serviceConfig = {
  loadBalancingConfig: [{ pick_first: {} }],
  methodConfig: [
    {
      name: [{ service: ECHO_SERVICE_NAME }],
      timeout: '5s',
      retryPolicy: {
        maxAttempts: 4,
        initialBackoff: '0.05s',
        maxBackoff: '1s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
  // Small on purpose: a failure costs 1 token, a success earns 0.5, and retries stop at 2.5 tokens or
  // fewer, so a run of failures visibly switches retries off (a `throttled` line).
  retryThrottling: { maxTokens: 5, tokenRatio: 0.5 },
};

/** mulberry32: a tiny seeded generator, so the backend fails the same calls on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Prints each retry-related event on one line, prefixed with ms since `start`. */
function logEvents(channel: SwitchyardChannel, start: number): void {
  const at = (): string => `${String(Date.now() - start).padStart(5)} ms`;
  const method = (m: string): string => m.slice(m.lastIndexOf('/') + 1);
  channel.events.on('attempt', (e) => {
    const outcome = e.code === grpc.status.OK ? 'OK' : `${grpc.status[e.code]} "${e.details}"`;
    console.log(`${at()}  attempt   ${method(e.method)} #${e.attempt} (${e.kind}) on ${e.endpoint}: ${outcome}${e.committed ? ', committed' : ''}`);
  });
  channel.events.on('backoff', (e) => {
    console.log(`${at()}  backoff   ${method(e.method)} attempt #${e.nextAttempt} in ${Math.round(e.delayMs)} ms${e.pushback ? ' (server pushback)' : ''}`);
  });
  channel.events.on('commit', (e) => {
    console.log(`${at()}  commit    ${method(e.method)} to attempt #${e.attempt} on ${e.endpoint} (${e.reason})`);
  });
  channel.events.on('throttled', (e) => {
    console.log(`${at()}  throttled ${method(e.method)} ${e.kind} refused: ${e.tokens} tokens left`);
  });
}

async function main(): Promise<void> {
  const server = await startEchoServer({ id: 'flaky', behaviour: { failRate: 0.5, failCode: grpc.status.UNAVAILABLE }, random: seeded(7) });
  const credentials = grpc.credentials.createInsecure();
  const target = `ipv4:${server.address}`;
  const channel = createChannel(target, credentials, { serviceConfig });
  const client = new EchoClient(target, credentials, { channelOverride: channel });
  const start = Date.now();
  logEvents(channel, start);
  try {
    for (let i = 1; i <= CALLS; i++) {
      const outcome = await new Promise<string>((resolve) => {
        client.Unary({ message: `call ${i}` }, new grpc.Metadata(), {}, (error: grpc.ServiceError | null, reply?: EchoReply) => {
          resolve(error ? `failed: ${grpc.status[error.code]} ${error.details}` : `OK after ${reply!.attempt + 1} attempt(s)`);
        });
      });
      console.log(`${String(Date.now() - start).padStart(5)} ms  call ${i}: ${outcome}\n`);
    }
    console.log('stats', channel.stats());
  } finally {
    client.close();
    channel.close();
    await server.stop(1_000);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
