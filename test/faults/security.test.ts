/**
 * Security claims of docs/security.md that need a real network: with TLS, every endpoint the resolver
 * returns is verified against the target's host name, so an address that serves another name's
 * certificate (an impostor slipped into DNS) never receives a call, and with it never the call
 * credentials; call credentials are minted for the target's authority, never for a resolved address.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { createTestCertificates } from '../helpers/tls';
import { failures, HOSTS, installProcessGuards, openProbe, Status } from '../helpers/fault-harness';

const NAME = 'orders.faults.test';

let dns: TestDnsServer;
let genuine: EchoServerHandle;
let impostor: EchoServerHandle;
let trusted: Buffer;

beforeAll(async () => {
  installProcessGuards();
  const certs = createTestCertificates(NAME);
  const other = createTestCertificates('impostor.faults.test');
  // The client trusts both CAs: the impostor's certificate is valid, only for another name.
  trusted = Buffer.concat([certs.caPem, other.caPem]);
  const tls = (c: typeof certs) => grpc.ServerCredentials.createSsl(null, [{ private_key: c.keyPem, cert_chain: c.certPem }], false);
  genuine = await startEchoServer({ id: 'genuine', host: HOSTS[0], credentials: tls(certs) });
  impostor = await startEchoServer({ id: 'impostor', host: HOSTS[1], port: genuine.port, credentials: tls(other) });
  dns = await startDnsServer({ records: { [NAME]: [HOSTS[0], HOSTS[1]] } });
});
afterAll(async () => {
  await dns?.stop();
  await genuine?.stop(100);
  await impostor?.stop(100);
});

describe('TLS and call credentials with a DNS name resolving to a genuine server and an impostor', () => {
  it('every call and every token go to the genuine server; the impostor sees none; tokens name the target', async () => {
    const serviceUrls: string[] = [];
    const token = grpc.credentials.createFromMetadataGenerator((params, callback) => {
      serviceUrls.push(params.service_url);
      const metadata = new grpc.Metadata();
      metadata.set('authorization', 'Bearer secret-token');
      callback(null, metadata);
    });
    const credentials = grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(trusted), token);
    const target = `dns://${dns.address}/${NAME}:${genuine.port}`;
    const probe = openProbe(target, {
      serviceConfig: {
        loadBalancingConfig: [{ round_robin: {} }],
        methodConfig: [{ name: [{ service: 'switchyard.demo.Echo' }], retryPolicy: { maxAttempts: 3, initialBackoff: '0.01s', maxBackoff: '0.05s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] } }],
      },
    }, credentials);

    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => probe.unary({ message: `t${i}` }, { timeoutMs: 10_000 })));
    expect(failures(outcomes)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.replies[0]!.backend))).toEqual(new Set(['genuine']));
    expect(impostor.stats().total.calls).toBe(0);
    expect(new Set(outcomes.map((o) => o.replies[0]!.authority))).toEqual(new Set([`${NAME}:${genuine.port}`]));
    // grpc-js mints call credentials per call for `https://<authority host>/<service>`: the target, never an IP.
    expect(new Set(serviceUrls)).toEqual(new Set([`https://${NAME}/switchyard.demo.Echo`]));

    // DNS now names only the impostor: calls fail instead of reaching it.
    dns.setRecords(NAME, [HOSTS[1]]);
    await dns.reload();
    const ticket = await waitForImpostorOnly(probe);
    expect(ticket.code).toBe(Status.UNAVAILABLE);
    expect(impostor.stats().total.calls).toBe(0);
    await probe.closeAndCheck();
  });
});

/** Call until the channel has dropped the genuine server (DNS refresh) and a call fails; return that outcome. */
async function waitForImpostorOnly(probe: ReturnType<typeof openProbe>) {
  for (let i = 0; i < 200; i++) {
    const outcome = await probe.unary({ message: 'after' }, { timeoutMs: 2_000 });
    if (outcome.code !== Status.OK) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('calls kept succeeding after DNS named only the impostor');
}
