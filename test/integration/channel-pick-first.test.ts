/**
 * pick_first (the default policy, gRFC A62) through a real switchyard channel: every call goes to one
 * backend, and when that backend's process is SIGKILLed the channel moves to the next address.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, type SwitchyardChannel } from '../../src/index';
import { startBackendProcess, type BackendProcess } from '../helpers/backend-process';
import { tally, waitForState } from '../helpers/channel-wait';
import { makeEchoClient, unary, unaryOutcome, type EchoClient } from '../helpers/echo-client';

const insecure = grpc.credentials.createInsecure();

describe('pick_first over three backend processes', () => {
  let backends: BackendProcess[];
  let channel: SwitchyardChannel;
  let client: EchoClient;

  beforeAll(async () => {
    backends = await Promise.all(['p1', 'p2', 'p3'].map((id) => startBackendProcess({ id })));
    const target = `ipv4:${backends.map((b) => b.address).join(',')}`;
    // No service config: pick_first is the default.
    channel = createChannel(target, insecure);
    client = makeEchoClient(target, insecure, { channelOverride: channel });
  });
  afterAll(async () => {
    client.close();
    channel.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('sends every call to the first address, then to the next one after that backend is killed', async () => {
    await waitForState(channel, grpc.connectivityState.READY);
    const before = await Promise.all(Array.from({ length: 50 }, () => unary(client, { message: 'pf' }, { timeoutMs: 10_000 })));
    expect(tally(before.map((r) => r.backend))).toEqual({ p1: 50 });
    expect((await backends[1]!.stats()).total.calls).toBe(0);
    expect((await backends[2]!.stats()).total.calls).toBe(0);

    const final = await backends[0]!.crash();
    expect(final?.total.calls).toBe(50);
    // Losing the selected connection makes pick_first IDLE (gRFC A62) until something needs it.
    await waitForState(channel, grpc.connectivityState.IDLE, 15_000, false);

    // The next call reconnects: p1 refuses, so every call lands on p2 (the next address in
    // order), never on p3. A few failures are tolerated in case a call races the reconnect.
    const after: string[] = [];
    let failures = 0;
    for (let i = 0; i < 60; i++) {
      const outcome = await unaryOutcome(client, { message: 'pf' }, { timeoutMs: 10_000 });
      if (outcome.reply) after.push(outcome.reply.backend);
      else {
        failures++;
        expect(outcome.error?.code).toBe(grpc.status.UNAVAILABLE);
      }
    }
    expect(failures).toBeLessThanOrEqual(3);
    expect(tally(after)).toEqual({ p2: after.length });
    expect(after.length).toBeGreaterThanOrEqual(57);
    expect((await backends[2]!.stats()).total.calls).toBe(0);
    expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
  });
});
