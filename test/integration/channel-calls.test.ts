/**
 * Everything a grpc-js client does with a channel, through a switchyard channel: the four call kinds,
 * request metadata, response headers and trailers, client cancellation, deadlines (`grpc-timeout`,
 * PROTOCOL-HTTP2), compression, client interceptors, and call credentials over TLS.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, type SwitchyardChannel } from '../../src/index';
import { waitFor } from '../helpers/channel-wait';
import {
  bidi,
  clientStream,
  makeEchoClient,
  serverStream,
  unary,
  unaryOutcome,
  type EchoClient,
  type StreamError,
} from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { PROBE_HEADER, PROBE_TRAILER, startProbeServer, type ProbeServer } from '../helpers/probe-server';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { createTestCertificates } from '../helpers/tls';

const insecure = grpc.credentials.createInsecure();

describe('call kinds, metadata, cancellation and deadlines', () => {
  let server: EchoServerHandle;
  let channel: SwitchyardChannel;
  let client: EchoClient;

  beforeAll(async () => {
    server = await startEchoServer({ id: 'e1' });
    const target = `ipv4:${server.address}`;
    channel = createChannel(target, insecure);
    client = makeEchoClient(target, insecure, { channelOverride: channel });
  });
  afterAll(async () => {
    client.close();
    channel.close();
    await server.stop(100);
  });

  it('runs unary, client-streaming, server-streaming and bidi calls with request headers', async () => {
    const metadata = { 'x-trace': 'abc' };
    const reply = await unary(client, { message: 'u' }, { metadata });
    expect(reply).toMatchObject({ message: 'u', backend: 'e1', metadata: { 'x-trace': 'abc' } });
    expect(await clientStream(client, [{ message: 'a' }, { message: 'b' }, { message: 'c' }], { metadata })).toMatchObject({
      message: 'a,b,c',
      metadata: { 'x-trace': 'abc' },
    });
    const stream = await serverStream(client, { message: 's', response_count: 5 }, { metadata });
    expect(stream.map((r) => r.message)).toEqual(['s', 's', 's', 's', 's']);
    expect(stream[0]!.metadata).toEqual({ 'x-trace': 'abc' });
    const echoed = await bidi(client, [{ message: '1' }, { message: '2', delay_ms: 10 }, { message: '3' }], { metadata });
    expect(echoed.map((r) => r.message)).toEqual(['1', '2', '3']);
    expect(echoed[2]!.metadata).toEqual({ 'x-trace': 'abc' });
  });

  it('reports server errors with their code, details and trailers, for unary and streaming calls', async () => {
    const outcome = await unaryOutcome(client, { fail_code: grpc.status.NOT_FOUND, pushback_ms: '7' });
    expect(outcome.error?.code).toBe(grpc.status.NOT_FOUND);
    expect(outcome.error?.details).toContain('requested failure');
    expect(outcome.status.metadata.get('grpc-retry-pushback-ms')).toEqual(['7']);
    const streamError = (await serverStream(client, { fail_code: grpc.status.INTERNAL, fail_after_headers: true }).catch(
      (e: unknown) => e,
    )) as StreamError;
    expect(streamError.code).toBe(grpc.status.INTERNAL);
    expect(streamError.replies).toHaveLength(1);
  });

  it('propagates a client cancellation to the server, for unary and bidi calls', async () => {
    server.resetStats();
    let unaryCall: grpc.Call | undefined;
    const cancelled = unary(client, { hang: true }, { onCall: (c) => (unaryCall = c) }).catch((e: grpc.ServiceError) => e);
    await waitFor(() => server.stats().methods.Unary.calls === 1, 'the server to receive the unary call');
    unaryCall!.cancel();
    expect((await cancelled) as grpc.ServiceError).toMatchObject({ code: grpc.status.CANCELLED });
    await waitFor(() => server.stats().methods.Unary.cancelled === 1, 'the server to see the unary cancellation');

    const call = client.Bidi(new grpc.Metadata(), {});
    const errors: grpc.ServiceError[] = [];
    const replies: string[] = [];
    call.on('data', (r: { message: string }) => replies.push(r.message));
    call.on('error', (e: grpc.ServiceError) => errors.push(e));
    call.write({ message: 'first' });
    call.write({ message: 'second', hang: true });
    await waitFor(() => replies.length === 1, 'the first bidi reply');
    call.cancel();
    await waitFor(() => errors.length === 1, 'the bidi call to end');
    expect(errors[0]!.code).toBe(grpc.status.CANCELLED);
    await waitFor(() => server.stats().methods.Bidi.cancelled === 1, 'the server to see the bidi cancellation');
  });

  it('sends the caller deadline as grpc-timeout and ends a hung call with DEADLINE_EXCEEDED', async () => {
    server.resetStats();
    const reply = await unary(client, { message: 'd' }, { timeoutMs: 5_000 });
    // The server derives its deadline from grpc-timeout: present, and no later than the caller's.
    expect(reply.deadline_remaining_ms).toBeGreaterThan(0);
    expect(reply.deadline_remaining_ms).toBeLessThanOrEqual(5_000);
    expect((await unary(client, { message: 'none' })).deadline_remaining_ms).toBe(-1);
    const streamed = await serverStream(client, { message: 's' }, { timeoutMs: 5_000 });
    expect(streamed[0]!.deadline_remaining_ms).toBeGreaterThan(0);

    const hung = await unaryOutcome(client, { hang: true }, { timeoutMs: 300 });
    expect(hung.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const hungStream = (await serverStream(client, { hang: true }, { timeoutMs: 300 }).catch((e: unknown) => e)) as StreamError;
    expect(hungStream.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // The server saw both calls end without an answer.
    await waitFor(
      () => server.stats().methods.Unary.cancelled === 1 && server.stats().methods.ServerStream.cancelled === 1,
      'the server to see both deadlines',
    );
  });

  it('runs client interceptors passed in the client options and per call', async () => {
    const seen: string[] = [];
    const interceptor = (name: string): grpc.Interceptor => (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start(metadata, listener, next) {
          seen.push(`${name}:${options.method_definition.path}`);
          metadata.set(`x-${name}`, 'yes');
          next(metadata, listener);
        },
      });
    const target = `ipv4:${server.address}`;
    const intercepted = makeEchoClient(target, insecure, { channelOverride: channel, interceptors: [interceptor('client')] });
    try {
      const reply = await unary(intercepted, { message: 'i' }, { callOptions: { interceptors: [interceptor('call')] } });
      // Per-call interceptors replace the client's (grpc-js semantics).
      expect(reply.metadata).toEqual({ 'x-call': 'yes' });
      const viaClient = await unary(intercepted, { message: 'i' });
      expect(viaClient.metadata).toEqual({ 'x-client': 'yes' });
      expect(seen).toEqual(['call:/switchyard.demo.Echo/Unary', 'client:/switchyard.demo.Echo/Unary']);
    } finally {
      intercepted.close();
    }
  });
});

describe('response headers and trailers', () => {
  let probe: ProbeServer;
  let channel: SwitchyardChannel;
  let client: EchoClient;

  beforeAll(async () => {
    probe = await startProbeServer('probe');
    const target = `ipv4:127.0.0.1:${probe.port}`;
    channel = createChannel(target, insecure);
    client = makeEchoClient(target, insecure, { channelOverride: channel });
  });
  afterAll(() => {
    client.close();
    channel.close();
    probe.close();
  });

  it('delivers the server headers and trailers to the caller', async () => {
    const outcome = await unaryOutcome(client, { message: 'h' });
    expect(outcome.reply?.message).toBe('h');
    expect(outcome.headers?.get(PROBE_HEADER)).toEqual(['probe']);
    expect(outcome.status.code).toBe(grpc.status.OK);
    expect(outcome.status.metadata.get(PROBE_TRAILER)).toEqual(['probe']);
  });
});

describe('compression', () => {
  let server: EchoServerHandle;
  let proxy: TcpProxy;

  beforeAll(async () => {
    server = await startEchoServer({ id: 'z' });
    proxy = await startTcpProxy(server.port);
  });
  afterAll(async () => {
    await proxy.close();
    await server.stop(100);
  });

  /** Bytes the client sent for one 200 000-byte, highly compressible request. */
  async function bytesSent(channelOptions: grpc.ChannelOptions): Promise<number> {
    const target = `ipv4:${proxy.address}`;
    const channel = createChannel(target, insecure, { channelOptions });
    const client = makeEchoClient(target, insecure, { channelOverride: channel });
    try {
      await unary(client, { message: 'warm-up' });
      const before = proxy.bytesUp();
      const reply = await unary(client, { message: 'a'.repeat(200_000) });
      expect(reply.message).toHaveLength(200_000);
      return proxy.bytesUp() - before;
    } finally {
      client.close();
      channel.close();
    }
  }

  it('compresses requests with grpc.default_compression_algorithm', async () => {
    expect(await bytesSent({})).toBeGreaterThan(200_000);
    expect(await bytesSent({ 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip })).toBeLessThan(20_000);
  });
});

describe('call credentials over TLS', () => {
  let probe: ProbeServer;
  let ssl: grpc.ChannelCredentials;
  const opened: { channel: SwitchyardChannel; client: EchoClient }[] = [];

  beforeAll(async () => {
    const certs = createTestCertificates('orders.switchyard.test');
    probe = await startProbeServer(
      'tls',
      grpc.ServerCredentials.createSsl(null, [{ private_key: certs.keyPem, cert_chain: certs.certPem }], false),
    );
    ssl = grpc.credentials.createSsl(certs.caPem);
  });
  afterAll(() => {
    for (const { channel, client } of opened) {
      client.close();
      channel.close();
    }
    probe.close();
  });

  /** The certificate names orders.switchyard.test, not 127.0.0.1: tell the channel which name to verify. */
  function open(credentials: grpc.ChannelCredentials): EchoClient {
    const target = `ipv4:127.0.0.1:${probe.port}`;
    const channel = createChannel(target, credentials, {
      channelOptions: { 'grpc.ssl_target_name_override': 'orders.switchyard.test' },
    });
    const client = makeEchoClient(target, credentials, { channelOverride: channel });
    opened.push({ channel, client });
    return client;
  }

  const bearer = (token: string): grpc.CallCredentials =>
    grpc.credentials.createFromMetadataGenerator((_params, callback) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      callback(null, metadata);
    });

  it('sends channel-level call credentials (combineChannelCredentials)', async () => {
    const client = open(grpc.credentials.combineChannelCredentials(ssl, bearer('channel-token')));
    const reply = await unary(client, { message: 'c' }, { timeoutMs: 10_000 });
    expect(reply.metadata.authorization).toBe('Bearer channel-token');
  });

  it('sends per-call credentials (the `credentials` call option)', async () => {
    const client = open(ssl);
    const reply = await unary(client, { message: 'p' }, { timeoutMs: 10_000, callOptions: { credentials: bearer('call-token') } });
    expect(reply.metadata.authorization).toBe('Bearer call-token');
    const without = await unary(client, { message: 'p' }, { timeoutMs: 10_000 });
    expect(without.metadata.authorization).toBeUndefined();
  });
});
