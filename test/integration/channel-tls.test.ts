/**
 * TLS through a switchyard channel whose target is a DNS name served by dnsmasq: each connection goes
 * to a resolved IP, but the server certificate is verified against the target's host name and the
 * server sees `:authority` = the target's `host:port` (`doc/naming.md`), as grpc-js does for its own
 * DNS targets. A certificate for another name, or an IP target without an override, fails.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, type SwitchyardChannel } from '../../src/index';
import { waitForState } from '../helpers/channel-wait';
import { checkDnsServerAvailable, startDnsServer, type TestDnsServer } from '../helpers/dns-server';
import { makeEchoClient, unary, unaryOutcome, type EchoClient } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { createTestCertificates, type TestCertificates } from '../helpers/tls';

const NAME = 'orders.switchyard.test';

function serverCredentials(certs: TestCertificates): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(null, [{ private_key: certs.keyPem, cert_chain: certs.certPem }], false);
}

describe.skipIf(!checkDnsServerAvailable())('TLS to a DNS target', () => {
  let dns: TestDnsServer;
  let certs: TestCertificates;
  /** Trusts both test CAs, so the only thing wrong with `wrongName`'s certificate is its name. */
  let bothCas: Buffer;
  let good: EchoServerHandle;
  let wrongName: EchoServerHandle;
  let channel: SwitchyardChannel;
  let client: EchoClient;

  beforeAll(async () => {
    certs = createTestCertificates(NAME);
    const otherCerts = createTestCertificates('other.switchyard.test');
    bothCas = Buffer.concat([certs.caPem, otherCerts.caPem]);
    good = await startEchoServer({ id: 'tls', credentials: serverCredentials(certs) });
    wrongName = await startEchoServer({ id: 'wrong', credentials: serverCredentials(otherCerts) });
    dns = await startDnsServer({ records: { [NAME]: ['127.0.0.1'] } });
  });
  afterEach(() => {
    client?.close();
    channel?.close();
  });
  afterAll(async () => {
    await dns?.stop();
    await good?.stop(100);
    await wrongName?.stop(100);
  });

  function open(target: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): void {
    channel = createChannel(target, credentials, { minConnectTimeoutMs: 2_000, channelOptions: options });
    client = makeEchoClient(target, credentials, { channelOverride: channel });
  }

  it('verifies the certificate against the target host name and sends its authority', async () => {
    open(`dns://${dns.address}/${NAME}:${good.port}`, grpc.credentials.createSsl(bothCas));
    const reply = await unary(client, { message: 'secure' }, { timeoutMs: 10_000 });
    expect(reply).toMatchObject({ message: 'secure', backend: 'tls', authority: `${NAME}:${good.port}` });
  });

  it('fails when the server certificate is for another name', async () => {
    open(`dns://${dns.address}/${NAME}:${wrongName.port}`, grpc.credentials.createSsl(bothCas));
    await waitForState(channel, grpc.connectivityState.TRANSIENT_FAILURE);
    const outcome = await unaryOutcome(client, { message: 'x' }, { timeoutMs: 10_000 });
    expect(outcome.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(outcome.error?.details).toContain(`${NAME}:${wrongName.port}`);
    expect(wrongName.stats().total.calls).toBe(0);
  });

  it('fails for an IP target whose address the certificate does not name', async () => {
    open(`ipv4:127.0.0.1:${good.port}`, grpc.credentials.createSsl(bothCas));
    await waitForState(channel, grpc.connectivityState.TRANSIENT_FAILURE);
    const outcome = await unaryOutcome(client, { message: 'x' }, { timeoutMs: 10_000 });
    expect(outcome.error?.code).toBe(grpc.status.UNAVAILABLE);
  });
});
