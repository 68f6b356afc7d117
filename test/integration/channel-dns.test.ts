/**
 * A switchyard channel following a real DNS server (dnsmasq, `test/helpers/dns-server.ts`) with
 * periodic re-resolution: a backend added to DNS gets traffic, one removed is drained (in-flight calls
 * finish, no new calls), and endpoints present in consecutive resolver updates keep their connections
 * (gRFC A61 endpoint model; `ChannelControlHelper.createSubchannel`).
 *
 * Backends are in-process echo servers behind TCP proxies on 127.0.0.2/3/4 sharing one port, so one
 * name with several A records reaches several backends and the proxies count connections.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, type SwitchyardChannel } from '../../src/index';
import { waitFor, waitForState } from '../helpers/channel-wait';
import { checkDnsServerAvailable, startDnsServer, type TestDnsServer } from '../helpers/dns-server';
import { makeEchoClient, unary, type EchoClient } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { startTcpProxiesOnOnePort, type TcpProxy } from '../helpers/tcp-proxy';

const insecure = grpc.credentials.createInsecure();
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const NAME = 'svc.switchyard.test';

describe.skipIf(!checkDnsServerAvailable())('channel with DNS re-resolution', () => {
  let dns: TestDnsServer;
  let servers: EchoServerHandle[];
  let proxies: TcpProxy[];
  let port: number;
  let channel: SwitchyardChannel;
  let client: EchoClient;
  /** Address lists of every resolver update the channel applied, in order. */
  let resolutions: string[][];

  const key = (i: number): string => `${HOSTS[i]}:${port}`;
  const served = (i: number): number => servers[i]!.stats().methods.Unary.calls;

  beforeAll(async () => {
    servers = await Promise.all(['a', 'b', 'c'].map((id) => startEchoServer({ id })));
    proxies = await startTcpProxiesOnOnePort(servers.map((s) => s.port), HOSTS);
    port = proxies[0]!.port;
    dns = await startDnsServer({ records: { [NAME]: [HOSTS[0]!, HOSTS[1]!] } });
  });
  afterEach(() => {
    client?.close();
    channel?.close();
  });
  afterAll(async () => {
    await dns?.stop();
    await Promise.all((proxies ?? []).map((p) => p.close()));
    await Promise.all((servers ?? []).map((s) => s.stop(100)));
  });

  function open(): void {
    const target = `dns://${dns.address}/${NAME}:${port}`;
    channel = createChannel(target, insecure, {
      serviceConfig: { loadBalancingConfig: [{ round_robin: {} }] },
      dnsRefreshIntervalMs: 1_000,
      minResolutionIntervalMs: 200,
    });
    resolutions = [];
    channel.events.on('resolution', (event) => resolutions.push([...event.addresses].sort()));
    client = makeEchoClient(target, insecure, { channelOverride: channel });
  }

  /** One call at a time until `done()`; returns the backends that served. */
  async function callUntil(done: () => boolean, what: string, timeoutMs = 15_000): Promise<string[]> {
    const backends: string[] = [];
    await waitFor(
      async () => {
        backends.push((await unary(client, { message: 'dns' }, { timeoutMs: 10_000 })).backend);
        return done();
      },
      what,
      timeoutMs,
      5,
    );
    return backends;
  }

  it('sends traffic to a backend added to DNS, and keeps the connections of unchanged endpoints', async () => {
    open();
    await waitForState(channel, grpc.connectivityState.READY);
    await callUntil(() => served(0) > 0 && served(1) > 0, 'both initial backends to serve');
    expect(served(2)).toBe(0);
    expect(proxies.map((p) => p.accepted())).toEqual([1, 1, 0]);

    dns.setRecords(NAME, HOSTS);
    await dns.reload();
    const changedAt = Date.now();
    // Generous bound: the refresh interval is 1 s.
    await callUntil(() => served(2) > 0, 'the added backend to serve', 20_000);
    expect(Date.now() - changedAt).toBeLessThan(15_000);
    expect(resolutions.at(-1)).toEqual([key(0), key(1), key(2)]);
    // Several resolver updates went by (initial, periodic refreshes, the change); a and b were in
    // every one of them and still use their first connection.
    expect(resolutions.length).toBeGreaterThanOrEqual(2);
    expect(proxies.map((p) => p.accepted())).toEqual([1, 1, 1]);
    await callUntil(() => served(0) >= 5 && served(1) >= 5 && served(2) >= 5, 'all three to serve');
    expect(proxies.map((p) => p.accepted())).toEqual([1, 1, 1]);
  });

  it('drains a backend removed from DNS: in-flight calls finish, no new calls reach it', async () => {
    dns.setRecords(NAME, HOSTS);
    await dns.reload();
    open();
    await waitForState(channel, grpc.connectivityState.READY);
    await callUntil(() => served(0) > 0 && served(1) > 0 && served(2) > 0, 'all three to serve');
    for (const s of servers) s.resetStats();

    // Slow calls spread over all three backends, in flight while backend a is removed.
    const slow = Array.from({ length: 6 }, () => unary(client, { message: 'slow', delay_ms: 2_500 }, { timeoutMs: 20_000 }));
    await waitFor(() => served(0) > 0 && served(0) + served(1) + served(2) === 6, 'the slow calls to arrive');
    const resolutionsBefore = resolutions.length;

    dns.setRecords(NAME, [HOSTS[1]!, HOSTS[2]!]);
    await dns.reload();
    await waitFor(
      () => resolutions.slice(resolutionsBefore).some((r) => !r.includes(key(0))),
      'a resolution without backend a',
    );
    const aBefore = served(0);
    for (let i = 0; i < 60; i++) {
      expect((await unary(client, { message: 'after' }, { timeoutMs: 10_000 })).backend).not.toBe('a');
    }
    expect(served(0)).toBe(aBefore);

    // Every in-flight call finished normally, including those on backend a.
    const replies = await Promise.all(slow);
    expect(replies.map((r) => r.message)).toEqual(Array(6).fill('slow'));
    expect(replies.some((r) => r.backend === 'a')).toBe(true);
    // Then the drained connection closes.
    await waitFor(() => proxies[0]!.openConnections() === 0, 'the connection to backend a to close');
    expect(proxies[1]!.openConnections()).toBe(1);
  });
});
