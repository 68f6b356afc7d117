import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { annotateAttemptStatus } from '../../../src/transport/grpc-js/call-status';
import { failedStream } from '../../../src/transport/failed-stream';
import { parseConnectFailure } from '../../../src/transport/grpc-js/failure-reason';
import { authorityHost, buildGrpcChannelOptions } from '../../../src/transport/grpc-js/channel-options';

describe('authorityHost', () => {
  it.each([
    ['orders.internal:50051', 'orders.internal'],
    ['orders.internal', 'orders.internal'],
    ['127.0.0.1:443', '127.0.0.1'],
    ['[::1]:50051', '::1'],
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['', ''],
  ])('%s → %s', (authority, host) => expect(authorityHost(authority)).toBe(host));
});

describe('buildGrpcChannelOptions', () => {
  it('forces switchyard options over the user options', () => {
    const options = buildGrpcChannelOptions(
      {
        'grpc.enable_retries': 1,
        'grpc.use_local_subchannel_pool': 0,
        'grpc.service_config': '{}',
        'grpc.keepalive_time_ms': 5_000,
        'grpc.client_idle_timeout_ms': 1_000,
      },
      'orders.switchyard.test:8443',
    );
    expect(options).toEqual({
      'grpc.keepalive_time_ms': 5_000,
      'grpc.enable_retries': 0,
      'grpc.service_config_disable_resolution': 1,
      'grpc.use_local_subchannel_pool': 1,
      'grpc.client_idle_timeout_ms': 2_147_483_647,
      'grpc.initial_reconnect_backoff_ms': 1,
      'grpc.max_reconnect_backoff_ms': 1,
      'grpc.default_authority': 'orders.switchyard.test:8443',
      'grpc.ssl_target_name_override': 'orders.switchyard.test',
    });
  });

  it('keeps an explicit TLS name override and does not mutate the input', () => {
    const user = { 'grpc.ssl_target_name_override': 'other.test' };
    const options = buildGrpcChannelOptions(user, 'orders.switchyard.test:8443');
    expect(options['grpc.ssl_target_name_override']).toBe('other.test');
    expect(user).toEqual({ 'grpc.ssl_target_name_override': 'other.test' });
  });

  it('sets no authority options for an empty authority', () => {
    const options = buildGrpcChannelOptions({}, '');
    expect(options['grpc.default_authority']).toBeUndefined();
    expect(options['grpc.ssl_target_name_override']).toBeUndefined();
  });
});

describe('parseConnectFailure', () => {
  it('extracts the error from grpc-js pick-failure details', () => {
    expect(
      parseConnectFailure('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: '),
    ).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(
      parseConnectFailure('No connection established. Last error: Failed to connect (2026-01-02T03:04:05.678Z). Resolution note: '),
    ).toBe('Failed to connect');
    expect(
      parseConnectFailure(
        "No connection established. Last error: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: wrong.test. is not in the cert's altnames: DNS:orders.switchyard.test. Resolution note: ",
      ),
    ).toBe(
      "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: wrong.test. is not in the cert's altnames: DNS:orders.switchyard.test",
    );
  });

  it('returns undefined for anything else', () => {
    expect(parseConnectFailure('Channel closed before call started')).toBeUndefined();
    expect(parseConnectFailure('No connection established. Last error: null. Resolution note: ')).toBeUndefined();
  });
});

describe('failedStream', () => {
  const listen = (call: ReturnType<typeof failedStream>) =>
    new Promise<StatusObject>((resolve) =>
      call.start(new Metadata(), { onReceiveMetadata() {}, onReceiveMessage() {}, onReceiveStatus: resolve }),
    );

  it('ends asynchronously with UNAVAILABLE and the given details', async () => {
    const call = failedStream(status.UNAVAILABLE, 'subchannel x is not READY (IDLE)', 'NOT_STARTED', 'x');
    let writeDone = false;
    call.sendMessageWithContext({ callback: () => (writeDone = true) }, Buffer.alloc(1));
    call.halfClose();
    call.startRead();
    const result = await listen(call);
    expect(result.code).toBe(status.UNAVAILABLE);
    expect(result.details).toBe('subchannel x is not READY (IDLE)');
    expect((result as { progress?: string }).progress).toBe('NOT_STARTED');
    expect(writeDone).toBe(true);
    expect(call.getPeer()).toBe('x');
    expect(call.getAuthContext()).toBeNull();
  });

  it('reports a cancellation that comes first', async () => {
    const call = failedStream(status.UNAVAILABLE, 'not ready', 'NOT_STARTED', 'x');
    const pending = listen(call);
    call.cancelWithStatus(status.CANCELLED, 'Cancelled on client');
    const result = await pending;
    expect(result.code).toBe(status.CANCELLED);
    expect(result.details).toBe('Cancelled on client');
  });
});

describe('annotateAttemptStatus', () => {
  /** A grpc-js call whose server side the test plays: optional headers, then a status. */
  function fakeCall(details: string, headers: boolean, code: number = status.UNAVAILABLE) {
    return {
      start(_metadata: Metadata, listener: { onReceiveMetadata(m: Metadata): void; onReceiveStatus(s: StatusObject): void }) {
        queueMicrotask(() => {
          if (headers) listener.onReceiveMetadata(new Metadata());
          listener.onReceiveStatus({ code, details, metadata: new Metadata() });
        });
      },
    } as unknown as ReturnType<typeof failedStream>;
  }
  const statusOf = (details: string, headers: boolean, closed: boolean, code?: number) =>
    new Promise<StatusObject & { progress?: string }>((resolve) => {
      annotateAttemptStatus(fakeCall(details, headers, code), () => closed).start(new Metadata(), {
        onReceiveMetadata() {},
        onReceiveMessage() {},
        onReceiveStatus: resolve,
      });
    });
  const progressOf = async (details: string, headers: boolean, closed: boolean) => (await statusOf(details, headers, closed)).progress;

  it.each([Number.NaN, 1.5, -3, Number.POSITIVE_INFINITY])('turns the malformed code %s into UNKNOWN, naming it', async (code) => {
    const result = await statusOf('oops', true, false, code);
    expect(result.code).toBe(status.UNKNOWN);
    expect(result.details).toBe(`invalid grpc-status from the server (${code}): oops`);
  });

  it.each([0, 14, 17, 99, 2 ** 31 - 1])('keeps the integer code %s', async (code) => {
    expect((await statusOf('fine', true, false, code)).code).toBe(code);
  });

  it.each([
    ['Stream refused by server', false, false, 'REFUSED'],
    ['Stream refused by server', true, false, undefined],
    ['Failed to start HTTP/2 stream with error ERR_HTTP2_GOAWAY_SESSION', false, false, 'NOT_STARTED'],
    ['Channel closed before call started', false, true, 'NOT_STARTED'],
    // A server can send this text as its status message: without a local close it is a processed attempt.
    ['Channel closed before call started', false, false, undefined],
    ['Connection dropped', false, true, undefined],
    ['anything else', false, false, undefined],
  ])('%s (headers: %s, closed locally: %s) → %s', async (details, headers, closed, expected) => {
    expect(await progressOf(details, headers, closed)).toBe(expected);
  });
});
