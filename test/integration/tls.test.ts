import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnectionBackoffConfig } from '../../src/backoff';
import { grpcJsTransport } from '../../src/transport/grpc-js/transport';
import { ChannelSubchannel } from '../../src/subchannel/subchannel';
import { systemClock } from '../../src/clock';
import { AUTHORITY_METHOD, authorityService, waitForSubchannelState } from '../helpers/subchannel-helpers';
import { createTestCertificates, type TestCertificates } from '../helpers/tls';

const { READY, TRANSIENT_FAILURE } = grpc.connectivityState;
const METHOD = AUTHORITY_METHOD;

const waitForState = waitForSubchannelState;

function authoritySeenByServer(subchannel: ChannelSubchannel): Promise<string> {
  return new Promise((resolve, reject) => {
    const call = subchannel.createStream(METHOD, Date.now() + 5_000);
    let reply = '';
    call.start(new grpc.Metadata(), {
      onReceiveMetadata() {},
      onReceiveMessage(message: Buffer) {
        reply = message.toString();
      },
      onReceiveStatus(status: grpc.StatusObject) {
        if (status.code === grpc.status.OK) resolve(reply);
        else reject(new Error(`${status.code}: ${status.details}`));
      },
    });
    call.sendMessageWithContext({}, Buffer.alloc(0));
    call.halfClose();
    call.startRead();
  });
}

describe('ChannelSubchannel over TLS: the certificate is checked against the target name, not the IP', () => {
  let certs: TestCertificates;
  let server: grpc.Server;
  let port: number;

  beforeAll(async () => {
    certs = createTestCertificates('orders.switchyard.test');
    server = new grpc.Server();
    server.addService(authorityService, {
      Get: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        callback(null, Buffer.from(call.getHost())),
    });
    const credentials = grpc.ServerCredentials.createSsl(null, [{ private_key: certs.keyPem, cert_chain: certs.certPem }], false);
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (error, p) => (error ? reject(error) : resolve(p))),
    );
  });
  afterAll(() => server?.forceShutdown());

  function makeSubchannel(authority: string): ChannelSubchannel {
    return new ChannelSubchannel({
      transport: grpcJsTransport,
      address: { host: '127.0.0.1', port },
      credentials: grpc.credentials.createSsl(certs.caPem),
      channelOptions: {},
      authority,
      clock: systemClock,
      random: Math.random,
      backoff: resolveConnectionBackoffConfig({ initialReconnectBackoffMs: 100 }),
    });
  }

  it('connects to 127.0.0.1 when the authority names the certificate\'s host', async () => {
    const subchannel = makeSubchannel(`orders.switchyard.test:${port}`);
    try {
      subchannel.connect();
      await waitForState(subchannel, READY);
      expect(await authoritySeenByServer(subchannel)).toBe(`orders.switchyard.test:${port}`);
    } finally {
      subchannel.shutdown();
    }
  });

  it('fails with TRANSIENT_FAILURE when the authority does not match the certificate', async () => {
    const subchannel = makeSubchannel(`wrong.test:${port}`);
    try {
      subchannel.connect();
      await waitForState(subchannel, TRANSIENT_FAILURE);
      const error = subchannel.getLastError() ?? '';
      expect(error.startsWith(`connect to 127.0.0.1:${port} failed: `)).toBe(true);
      expect(error).toMatch(/wrong\.test/);
      expect(error).toMatch(/altnames/);
    } finally {
      subchannel.shutdown();
    }
  });
});
