import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnectionBackoffConfig } from '../../src/channel/connection-backoff';
import { ChannelSubchannel } from '../../src/channel/subchannel';
import { systemClock } from '../../src/clock';
import type { ConnectivityState } from '../../src/picker/types';
import { createTestCertificates, type TestCertificates } from '../helpers/tls';

const { READY, TRANSIENT_FAILURE } = grpc.connectivityState;
const METHOD = '/switchyard.test.Authority/Get';
const identity = (value: Buffer) => value;
const authorityService: grpc.ServiceDefinition = {
  Get: {
    path: METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

function waitForState(subchannel: ChannelSubchannel, state: ConnectivityState, withinMs = 10_000): Promise<void> {
  if (subchannel.getState() === state) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      subchannel.removeStateListener(listener);
      reject(new Error(`still ${grpc.connectivityState[subchannel.getState()]} (${subchannel.getLastError()})`));
    }, withinMs);
    const listener = (_s: unknown, _p: ConnectivityState, next: ConnectivityState) => {
      if (next !== state) return;
      clearTimeout(timer);
      subchannel.removeStateListener(listener);
      resolve();
    };
    subchannel.addStateListener(listener);
  });
}

function authoritySeenByServer(subchannel: ChannelSubchannel): Promise<string> {
  return new Promise((resolve, reject) => {
    const call = subchannel.createCall(METHOD, Date.now() + 5_000);
    let reply = '';
    call.start(new grpc.Metadata(), {
      onReceiveMetadata() {},
      onReceiveMessage(message: Buffer) {
        reply = message.toString();
      },
      onReceiveStatus(status) {
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
