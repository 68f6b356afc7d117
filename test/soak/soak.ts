/**
 * Soak (`npm run soak`; `npm run soak -- --quick` in CI): a switchyard channel under steady load for N
 * minutes (default 10) or a million calls, whichever comes first, while its three backends are
 * restarted every few seconds (alternately crashed with SIGKILL and stopped gracefully with GOAWAY) and
 * the DNS answer changes every few seconds. At the end the books must balance exactly (see
 * `test/soak/ledger.ts`), the heap after GC must stay within {@link HEAP_BOUND_BYTES} of its value after
 * warm-up, every call must have ended within 50 ms of its deadline, the channel must be READY again,
 * and close() must leave no switchyard timer. Exits 1 on any violation.
 *
 *   npm run soak -- [--quick] [--minutes N] [--calls N] [--concurrency N]
 *
 * `--quick`: 35 s of load (under 60 s with start-up and checks).
 */
import { parseArgs } from 'node:util';
import { countingClock } from '../helpers/counting-clock';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { createChannel, type SwitchyardChannel } from '../../src/index';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server';
import { makeEchoClient, type EchoClient, type EchoReply } from '../helpers/echo-client';
import { ECHO_SERVICE_NAME } from '../helpers/echo-server';
import { createLedger, createTally, reconcile, recordExecuted, tallyAttempt, type Ledger } from './ledger';
import { soakBackend, type SoakBackend } from './soak-backends';

/** How much the heap after GC may grow between the end of warm-up and the end of the run. */
const HEAP_BOUND_BYTES = 16 * 1024 * 1024;
/** The bound on how late a call may end after its deadline, in ms. */
const DEADLINE_SLACK_MS = 50;
const NAME = 'svc.soak.test';
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const MAX_ATTEMPTS = 4;
const CALL_TIMEOUT_MS = 3_000;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    minutes: { type: 'string' },
    calls: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
  },
  strict: true,
});
const durationMs = values.quick ? 35_000 : Number(values.minutes ?? 10) * 60_000;
const maxCalls = Number(values.calls ?? 1_000_000);
const concurrency = Number(values.concurrency);
const restartEveryMs = values.quick ? 1_000 : 2_000;
const dnsChurnEveryMs = values.quick ? 3_000 : 4_000;
const warmUpMs = Math.min(10_000, durationMs / 4);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const log = (line: string): void => console.log(`[soak ${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}`);
const startedAt = Date.now();


/** What each call asks of the server: mostly plain, some failing once (retried), some with pushback. */
function requestFor(id: number): Record<string, unknown> {
  const r = id % 100;
  if (r < 5) return { message: String(id), fail_code: grpc.status.UNAVAILABLE, fail_attempts: 1 };
  if (r < 7) return { message: String(id), fail_code: grpc.status.RESOURCE_EXHAUSTED, pushback_ms: '20', fail_attempts: 1 };
  return { message: String(id), delay_ms: r % 3 };
}

async function main(): Promise<void> {
  const ledger: Ledger = createLedger(maxCalls, HOSTS.length);
  const tally = createTally(HOSTS.length);
  let throttledEvents = 0;
  let worstOvershootMs = Number.NEGATIVE_INFINITY;
  let lateCalls = 0;
  let restarts = 0;
  let dnsChanges = 0;

  const backends: SoakBackend[] = [];
  let dns: TestDnsServer | undefined;
  let channel: SwitchyardChannel | undefined;
  let client: EchoClient | undefined;
  const clock = countingClock();
  const problems: string[] = [];

  try {
    // One port on three loopback addresses: the first backend picks it.
    const sink = (b: number, entries: readonly number[], counted: number): void => recordExecuted(ledger, b, entries, counted);
    backends.push(soakBackend(0, HOSTS[0]!, 0, sink));
    await backends[0]!.start();
    const port = backends[0]!.port;
    for (let i = 1; i < HOSTS.length; i++) backends.push(soakBackend(i, HOSTS[i]!, port, sink));
    await Promise.all(backends.slice(1).map((b) => b.start()));
    dns = await startDnsServer({ records: { [NAME]: HOSTS } });
    const target = `dns://${dns.address}/${NAME}:${port}`;
    const backendOf = new Map(HOSTS.map((host, i) => [`${host}:${port}`, i]));

    channel = createChannel(target, grpc.credentials.createInsecure(), {
      serviceConfig: {
        loadBalancingConfig: [{ round_robin: {} }],
        methodConfig: [{
          name: [{ service: ECHO_SERVICE_NAME }],
          retryPolicy: {
            maxAttempts: MAX_ATTEMPTS, initialBackoff: '0.02s', maxBackoff: '0.2s', backoffMultiplier: 2,
            retryableStatusCodes: ['UNAVAILABLE', 'RESOURCE_EXHAUSTED'],
          },
        }],
        // Tuned so that crash bursts drain the bucket below half now and then: throttling must engage.
        retryThrottling: { maxTokens: 20, tokenRatio: 0.08 },
      },
      dnsRefreshIntervalMs: 500,
      minResolutionIntervalMs: 100,
      initialReconnectBackoffMs: 100,
      maxReconnectBackoffMs: 1_000,
      minConnectTimeoutMs: 1_000,
      clock,
    });
    channel.events.on('attempt', (event) => tallyAttempt(tally, event, (endpoint) => backendOf.get(endpoint)));
    channel.events.on('throttled', () => throttledEvents++);
    client = makeEchoClient(target, grpc.credentials.createInsecure(), { channelOverride: channel });
    const echo = client;

    /** One call; resolves when it ended. Returns false when the call budget is used up. */
    const oneCall = (): Promise<boolean> => {
      if (ledger.issued >= maxCalls) return Promise.resolve(false);
      const id = ledger.issued++;
      const metadata = new grpc.Metadata();
      metadata.set('x-call', String(id));
      const deadline = Date.now() + CALL_TIMEOUT_MS;
      return new Promise<boolean>((resolve) => {
        let reply: EchoReply | undefined;
        const call = echo.Unary(requestFor(id), metadata, { deadline }, (_error, r) => (reply = r));
        call.on('status', (status: grpc.StatusObject) => {
          const overshoot = Date.now() - deadline;
          if (overshoot > worstOvershootMs) worstOvershootMs = overshoot;
          if (overshoot > DEADLINE_SLACK_MS) lateCalls++;
          ledger.outcome[id] = status.code + 1;
          if (status.code === grpc.status.OK && reply !== undefined) {
            ledger.okAttempt[id] = reply.attempt;
            ledger.okBackend[id] = Number(reply.backend.slice(1));
          }
          ledger.completed++;
          resolve(true);
        });
      });
    };

    let loadStopped = false;
    const load = Promise.all(Array.from({ length: concurrency }, async () => {
      while (!loadStopped && (await oneCall()));
    }));

    await sleep(warmUpMs);
    const heapAtWarmUp = heapAfterGc();
    log(`warm-up done: ${ledger.completed} calls, heap after GC ${mib(heapAtWarmUp)}`);

    // Chaos: restart one backend every few seconds (crash and graceful stop alternate); churn DNS.
    let chaosStopped = false;
    const chaos = (async () => {
      let next = 0;
      while (!chaosStopped) {
        await sleep(restartEveryMs);
        if (chaosStopped) break;
        const backend = backends[next % backends.length]!;
        if (next % 2 === 0) await backend.crash();
        else await backend.stopGracefully();
        await backend.start();
        restarts++;
        next++;
      }
    })();
    const churn = (async () => {
      let round = 0;
      while (!chaosStopped) {
        await sleep(dnsChurnEveryMs);
        if (chaosStopped) break;
        round++;
        // Every other change drops one host (a different one each time); the others restore all three.
        const hosts = round % 2 === 0 ? HOSTS : HOSTS.filter((_, i) => i !== (round >> 1) % HOSTS.length);
        dns!.setRecords(NAME, hosts);
        await dns!.reload();
        dnsChanges++;
      }
    })();

    const endAt = startedAt + durationMs;
    while (Date.now() < endAt && ledger.issued < maxCalls) {
      await sleep(Math.min(5_000, endAt - Date.now()));
      log(`${ledger.completed} calls, ${restarts} restarts, ${dnsChanges} DNS changes, heap ${mib(process.memoryUsage().heapUsed)}`);
    }
    chaosStopped = true;
    await Promise.all([chaos, churn]);
    loadStopped = true;
    await load;

    // Quiet end: every backend up, DNS naming all three, the channel READY again.
    dns.setRecords(NAME, HOSTS);
    await dns.reload();
    await waitForReady(channel, 15_000).catch((error: Error) => problems.push(`channel: ${error.message}`));
    const heapAtEnd = heapAfterGc();
    log(`load done: heap after GC ${mib(heapAtEnd)} (warm-up ${mib(heapAtWarmUp)}, bound +${mib(HEAP_BOUND_BYTES)})`);
    if (heapAtEnd - heapAtWarmUp > HEAP_BOUND_BYTES) {
      problems.push(`heap: grew ${mib(heapAtEnd - heapAtWarmUp)} after GC, bound ${mib(HEAP_BOUND_BYTES)}`);
    }

    // Collect the last ledger entries: a graceful stop reports everything executed.
    await Promise.all(backends.map((b) => b.stopGracefully()));
    const stats = channel.stats();
    problems.push(...reconcile({ ledger, tally, stats, throttledEvents, maxAttempts: MAX_ATTEMPTS }));
    if (lateCalls > 0) problems.push(`deadlines: ${lateCalls} calls ended more than ${DEADLINE_SLACK_MS} ms after their deadline (worst ${worstOvershootMs} ms)`);

    client.close();
    channel.close();
    await sleep(100);
    if (clock.pending() !== 0) problems.push(`close(): ${clock.pending()} switchyard timers still pending`);

    const failed = stats.failed;
    log(`calls ${stats.calls} (OK ${stats.succeeded}, failed ${failed}), attempts ${stats.attempts} (retries ${stats.retries}, ` +
      `transparent ${stats.transparentRetries}), throttled ${stats.throttled}, tokens ${stats.tokens}`);
    log(`backends executed ${ledger.executed.join(' / ')} attempts; client saw answered ${tally.answered.join(' / ')}, ` +
      `cut off ${tally.cut.join(' / ')}, failed picks ${tally.failedPicks}`);
    log(`restarts ${restarts}, DNS changes ${dnsChanges}, worst deadline overshoot ${worstOvershootMs} ms`);
  } catch (error) {
    problems.push(`soak aborted: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  } finally {
    client?.close();
    channel?.close();
    await Promise.all(backends.map((b) => b.close()));
    await dns?.stop();
  }

  if (problems.length > 0) {
    console.error(`\nsoak FAILED:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  log('soak passed: the books balance');
  process.exit(0);
}

function waitForReady(channel: SwitchyardChannel, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) return resolve();
      if (Date.now() >= deadline) return reject(new Error(`not READY at the end (${grpc.connectivityState[state]})`));
      channel.watchConnectivityState(state, deadline, () => check());
    };
    check();
  });
}

void main();
