/**
 * round_robin through a real switchyard channel (grpc `doc/load-balancing.md`): an even spread over
 * in-process backends, and a crashed backend (child process, SIGKILL) dropping out of the rotation.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, type SwitchyardChannel } from '../../src/index';
import { startBackendProcess, type BackendProcess } from '../helpers/backend-process';
import { waitFor, waitForState } from '../helpers/channel-wait';
import { makeEchoClient, unary, unaryOutcome, type EchoClient } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';

const insecure = grpc.credentials.createInsecure();
const ROUND_ROBIN = { loadBalancingConfig: [{ round_robin: {} }] };

/** Run `total` unary calls, at most `concurrency` at a time; returns the backend id of each reply. */
async function runCalls(client: EchoClient, total: number, concurrency: number): Promise<string[]> {
  const backends: string[] = [];
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < total) {
      started++;
      backends.push((await unary(client, { message: 'rr' }, { timeoutMs: 20_000 })).backend);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return backends;
}

describe('round_robin over three in-process backends', () => {
  let servers: EchoServerHandle[];
  let channel: SwitchyardChannel;
  let client: EchoClient;

  beforeAll(async () => {
    servers = await Promise.all(['a', 'b', 'c'].map((id) => startEchoServer({ id })));
    const target = `ipv4:${servers.map((s) => s.address).join(',')}`;
    channel = createChannel(target, insecure, { serviceConfig: ROUND_ROBIN });
    client = makeEchoClient(target, insecure, { channelOverride: channel });
  });
  afterAll(async () => {
    client.close();
    channel.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('spreads 3000 unary calls evenly once every backend is connected', { timeout: 120_000 }, async () => {
    await waitForState(channel, grpc.connectivityState.READY);
    // READY means one backend is connected; keep calling until every one has served a call, so the
    // picker covers all three before counting.
    await waitFor(async () => {
      await runCalls(client, 3, 3);
      return servers.every((s) => s.stats().methods.Unary.calls > 0);
    }, 'every backend to serve a call');
    for (const s of servers) s.resetStats();

    const backends = await runCalls(client, 3000, 30);

    const seen: Record<string, number> = {};
    for (const id of backends) seen[id] = (seen[id] ?? 0) + 1;
    for (const s of servers) {
      const served = s.stats().methods.Unary.calls;
      expect(seen[s.id]).toBe(served);
      // Within 1 % of an even split (|n − 1000| <= 10); an exact counter gives exactly 1000.
      expect(Math.abs(served - 1000), `${s.id} served ${served}`).toBeLessThanOrEqual(10);
    }
    expect(channel.stats()).toMatchObject({ failed: 0 });
  });
});

describe('round_robin when a backend process is killed', () => {
  let backends: BackendProcess[];
  let channel: SwitchyardChannel;
  let client: EchoClient;

  beforeAll(async () => {
    backends = await Promise.all(['p1', 'p2', 'p3'].map((id) => startBackendProcess({ id })));
  });
  afterEach(() => {
    client?.close();
    channel?.close();
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
  });

  it('stops sending calls to the dead backend; the others serve every later call', async () => {
    const target = `ipv4:${backends.map((b) => b.address).join(',')}`;
    channel = createChannel(target, insecure, { serviceConfig: ROUND_ROBIN });
    client = makeEchoClient(target, insecure, { channelOverride: channel });
    await waitForState(channel, grpc.connectivityState.READY);
    await waitFor(async () => {
      await runCalls(client, 3, 3);
      const stats = await Promise.all(backends.map((b) => b.stats()));
      return stats.every((s) => s.methods.Unary.calls > 0);
    }, 'every backend to serve a call');

    // Load during the crash: 10 concurrent callers.
    let stop = false;
    let failures = 0;
    const outcomes: string[] = [];
    const load = Promise.all(
      Array.from({ length: 10 }, async () => {
        while (!stop) {
          const outcome = await unaryOutcome(client, { message: 'x', delay_ms: 2 }, { timeoutMs: 10_000 });
          if (outcome.reply) outcomes.push(outcome.reply.backend);
          else failures++;
        }
      }),
    );
    await waitFor(() => outcomes.length >= 100, '100 calls before the crash');
    const victim = backends[0]!;
    await victim.crash();
    const afterCrash = outcomes.length;
    await waitFor(() => outcomes.length >= afterCrash + 300, '300 calls after the crash', 30_000);
    stop = true;
    await load;

    // Only calls in flight on the dead connection (or picked before the loss was noticed) may fail:
    // at most one per concurrent caller, twice over for slack.
    expect(failures).toBeLessThanOrEqual(20);
    // The last 200 replies all came from the survivors.
    const tail = outcomes.slice(-200);
    expect(tail).not.toContain('p1');
    expect(new Set(tail)).toEqual(new Set(['p2', 'p3']));

    // Calls made now, one at a time, all succeed.
    for (let i = 0; i < 20; i++) {
      const reply = await unary(client, { message: 'after' }, { timeoutMs: 10_000 });
      expect(reply.backend).not.toBe('p1');
    }
  });
});
