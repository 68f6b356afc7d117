import { Metadata, connectivityState, status, type InterceptingListener } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StreamSubchannel } from '../../../src/subchannel/types';
import { HealthCheckedSubchannel } from '../../../src/subchannel/health-check';
import {
  HEALTH_WATCH_METHOD,
  ServingStatus,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  servingStatusName,
} from '../../../src/subchannel/health-proto';
import type { TransportStream as GrpcCall } from '../../../src/transport/types';
import { systemClock } from '../../../src/clock';
import type { ConnectivityState } from '../../../src/picker/types';
import { FakeSubchannel } from '../../helpers/fake-subchannel';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN } = connectivityState;

/** A grpc-js call object the test drives: records what the wrapper did and delivers server events. */
class FakeCall implements GrpcCall {
  listener: InterceptingListener | undefined;
  readonly sent: Buffer[] = [];
  halfClosed = false;
  reads = 0;
  cancelled: { code: status; details: string } | undefined;
  constructor(
    readonly method: string,
    readonly deadline: unknown,
  ) {}
  start(_metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
  }
  sendMessageWithContext(_context: unknown, message: Buffer): void {
    this.sent.push(message);
  }
  halfClose(): void {
    this.halfClosed = true;
  }
  startRead(): void {
    this.reads++;
  }
  cancelWithStatus(code: status, details: string): void {
    this.cancelled = { code, details };
  }
  getPeer = () => '127.0.0.1:50051';
  getCallNumber = () => 0;
  setCredentials(): void {}
  getAuthContext = () => null;
  /** The server sends one HealthCheckResponse. */
  respond(servingStatus: number): void {
    this.listener!.onReceiveMessage(Buffer.from([0x08, servingStatus]));
  }
  end(code: status, details = ''): void {
    this.listener!.onReceiveStatus({ code, details, metadata: new Metadata() });
  }
}

/** A pooled-subchannel stand-in whose `createCall` hands out {@link FakeCall}s. */
class FakeInner extends FakeSubchannel implements StreamSubchannel {
  readonly calls: FakeCall[] = [];
  createStream(method: string, deadline: unknown): GrpcCall {
    const call = new FakeCall(method, deadline);
    this.calls.push(call);
    return call;
  }
  get lastCall(): FakeCall {
    return this.calls[this.calls.length - 1]!;
  }
}

function setup(serviceName = 'orders.Orders') {
  const inner = new FakeInner({ host: '127.0.0.1', port: 50051 });
  const wrapper = new HealthCheckedSubchannel({
    inner,
    serviceName,
    clock: systemClock,
    random: () => 0.5, // no jitter
    backoff: { initialBackoffMs: 1_000, maxBackoffMs: 120_000, minConnectTimeoutMs: 20_000 },
  });
  const transitions: Array<[ConnectivityState, ConnectivityState, string | undefined]> = [];
  wrapper.addStateListener((subchannel, previous, next, error) => {
    expect(subchannel).toBe(wrapper);
    transitions.push([previous, next, error]);
  });
  return { inner, wrapper, transitions };
}

describe('health-proto', () => {
  it('encodes HealthCheckRequest (empty name → empty message)', () => {
    expect(encodeHealthCheckRequest('')).toEqual(Buffer.alloc(0));
    expect(encodeHealthCheckRequest('a.B')).toEqual(Buffer.from([0x0a, 3, 0x61, 0x2e, 0x42]));
    const long = 'x'.repeat(200);
    expect(encodeHealthCheckRequest(long).subarray(0, 3)).toEqual(Buffer.from([0x0a, 0xc8, 0x01]));
  });

  it('decodes HealthCheckResponse, skipping unknown fields, defaulting to UNKNOWN', () => {
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toBe(ServingStatus.UNKNOWN);
    expect(decodeHealthCheckResponse(Buffer.from([0x08, 0x01]))).toBe(ServingStatus.SERVING);
    // field 2 (string "hi"), field 3 fixed32, field 4 fixed64, then status NOT_SERVING
    const message = Buffer.from([0x12, 2, 0x68, 0x69, 0x1d, 1, 2, 3, 4, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x02]);
    expect(decodeHealthCheckResponse(message)).toBe(ServingStatus.NOT_SERVING);
    expect(servingStatusName(3)).toBe('SERVICE_UNKNOWN');
    expect(servingStatusName(9)).toBe('UNKNOWN_STATUS_9');
  });

  it('rejects malformed responses', () => {
    expect(() => decodeHealthCheckResponse(Buffer.from([0x08]))).toThrow(/varint/);
    expect(() => decodeHealthCheckResponse(Buffer.from([0x12, 5, 1]))).toThrow(/truncated/);
    expect(() => decodeHealthCheckResponse(Buffer.from([0x0b]))).toThrow(/wire type/);
  });
});

describe('HealthCheckedSubchannel', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => {
    clock.restore();
  });

  it('forwards key, address, connect and createCall', () => {
    const { inner, wrapper } = setup();
    expect(wrapper.key).toBe('127.0.0.1:50051');
    expect(wrapper.address).toBe(inner.address);
    expect(wrapper.getState()).toBe(IDLE);
    wrapper.connect();
    expect(inner.connectCalls).toBe(1);
    expect(wrapper.getState()).toBe(CONNECTING);
    inner.ready();
    const call = wrapper.createStream('/a.B/C', 1234, 'host');
    expect(inner.lastCall).toBe(call);
    expect((call as FakeCall).method).toBe('/a.B/C');
  });

  it('opens Watch once the connection is READY and is READY only after SERVING', () => {
    const { inner, wrapper, transitions } = setup();
    wrapper.connect();
    inner.ready();
    expect(wrapper.getState()).toBe(CONNECTING);
    const call = inner.lastCall;
    expect(call.method).toBe(HEALTH_WATCH_METHOD);
    expect(call.deadline).toBe(Infinity);
    expect(call.sent).toEqual([encodeHealthCheckRequest('orders.Orders')]);
    expect(call.halfClosed).toBe(true);
    expect(call.reads).toBe(1);
    call.respond(ServingStatus.SERVING);
    expect(wrapper.getState()).toBe(READY);
    expect(call.reads).toBe(2);
    expect(transitions).toEqual([
      [IDLE, CONNECTING, undefined],
      [CONNECTING, READY, undefined],
    ]);
  });

  it('reports TRANSIENT_FAILURE for NOT_SERVING / UNKNOWN / SERVICE_UNKNOWN and READY again on SERVING', () => {
    const { inner, wrapper, transitions } = setup();
    inner.connect();
    inner.ready();
    const call = inner.lastCall;
    call.respond(ServingStatus.SERVING);
    call.respond(ServingStatus.NOT_SERVING);
    expect(wrapper.getState()).toBe(TRANSIENT_FAILURE);
    expect(transitions.at(-1)![2]).toMatch(/NOT_SERVING/);
    expect(wrapper.getLastError()).toMatch(/127\.0\.0\.1:50051.*orders\.Orders.*NOT_SERVING/);
    call.respond(ServingStatus.SERVING);
    expect(wrapper.getState()).toBe(READY);
    expect(wrapper.getLastError()).toBeUndefined();
    call.respond(ServingStatus.UNKNOWN);
    expect(transitions.at(-1)).toEqual([READY, TRANSIENT_FAILURE, expect.stringMatching(/: UNKNOWN$/)]);
    call.respond(ServingStatus.SERVING);
    call.respond(ServingStatus.SERVICE_UNKNOWN);
    expect(transitions.at(-1)![2]).toMatch(/SERVICE_UNKNOWN/);
    expect(inner.calls).toHaveLength(1);
    expect(inner.getState()).toBe(READY);
  });

  it('treats UNIMPLEMENTED as healthy and does not retry on that connection', () => {
    const { inner, wrapper } = setup('');
    inner.connect();
    inner.ready();
    expect(inner.lastCall.sent).toEqual([Buffer.alloc(0)]);
    inner.lastCall.end(status.UNIMPLEMENTED, 'unknown service grpc.health.v1.Health');
    expect(wrapper.getState()).toBe(READY);
    expect(wrapper.getLastError()).toBeUndefined();
    clock.tick(600_000);
    expect(inner.calls).toHaveLength(1);
    // A new connection checks again.
    inner.idle();
    expect(wrapper.getState()).toBe(IDLE);
    inner.connect();
    inner.ready();
    expect(inner.calls).toHaveLength(2);
    expect(wrapper.getState()).toBe(CONNECTING);
  });

  it('retries a failed stream with connection backoff, TRANSIENT_FAILURE then CONNECTING', () => {
    const { inner, wrapper, transitions } = setup();
    inner.connect();
    inner.ready();
    clock.tick(100);
    inner.lastCall.end(status.UNAVAILABLE, 'boom');
    expect(wrapper.getState()).toBe(TRANSIENT_FAILURE);
    expect(transitions.at(-1)![2]).toMatch(/failed: UNAVAILABLE: boom/);
    // First backoff: 1 000 ms from the stream's start (100 ms already spent).
    clock.tick(899);
    expect(inner.calls).toHaveLength(1);
    clock.tick(1);
    expect(inner.calls).toHaveLength(2);
    expect(wrapper.getState()).toBe(CONNECTING);
    inner.lastCall.end(status.INTERNAL, 'again');
    clock.tick(1_599);
    expect(inner.calls).toHaveLength(2);
    clock.tick(1);
    expect(inner.calls).toHaveLength(3);
    inner.lastCall.respond(ServingStatus.SERVING);
    expect(wrapper.getState()).toBe(READY);
  });

  it('restarts at once after a stream that delivered a response, then backs off again', () => {
    const { inner, wrapper } = setup();
    inner.connect();
    inner.ready();
    inner.lastCall.end(status.UNAVAILABLE); // grows the backoff
    clock.tick(1_000);
    inner.lastCall.respond(ServingStatus.SERVING);
    inner.lastCall.end(status.OK);
    expect(wrapper.getState()).toBe(TRANSIENT_FAILURE);
    clock.tick(0);
    expect(inner.calls).toHaveLength(3);
    expect(wrapper.getState()).toBe(CONNECTING);
    inner.lastCall.end(status.UNAVAILABLE);
    clock.tick(999);
    expect(inner.calls).toHaveLength(3);
    clock.tick(1);
    expect(inner.calls).toHaveLength(4);
  });

  it('cancels the stream on an unparsable response', () => {
    const { inner, wrapper } = setup();
    inner.connect();
    inner.ready();
    inner.lastCall.listener!.onReceiveMessage(Buffer.from([0x08]));
    expect(inner.lastCall.cancelled?.code).toBe(status.INTERNAL);
    inner.lastCall.end(status.INTERNAL, inner.lastCall.cancelled!.details);
    expect(wrapper.getState()).toBe(TRANSIENT_FAILURE);
    expect(wrapper.getLastError()).toMatch(/INTERNAL/);
  });

  it('follows the connection when it is lost, cancelling the stream and the retry timer', () => {
    const { inner, wrapper } = setup();
    inner.connect();
    inner.ready();
    const first = inner.lastCall;
    first.respond(ServingStatus.SERVING);
    inner.idle();
    expect(first.cancelled?.code).toBe(status.CANCELLED);
    expect(wrapper.getState()).toBe(IDLE);
    first.end(status.CANCELLED); // late status of the cancelled stream: ignored
    expect(wrapper.getState()).toBe(IDLE);
    inner.connect();
    inner.fail('connect ECONNREFUSED');
    expect(wrapper.getState()).toBe(TRANSIENT_FAILURE);
    expect(wrapper.getLastError()).toBe('connect ECONNREFUSED');
    inner.idle();
    inner.connect();
    inner.ready();
    inner.lastCall.end(status.UNAVAILABLE);
    expect(clock.countTimers()).toBe(1);
    inner.idle();
    expect(clock.countTimers()).toBe(0);
    expect(inner.calls).toHaveLength(2);
  });

  it('starts checking at once when the shared connection is already READY', () => {
    const inner = new FakeInner({ host: '::1', port: 1 });
    inner.connect();
    inner.ready();
    const wrapper = new HealthCheckedSubchannel({ inner, serviceName: 's', clock: systemClock, random: Math.random });
    expect(wrapper.getState()).toBe(CONNECTING);
    expect(inner.calls).toHaveLength(1);
    inner.lastCall.respond(ServingStatus.SERVING);
    expect(wrapper.getState()).toBe(READY);
    wrapper.dispose();
  });

  it('dispose cancels the stream, clears timers and detaches from the connection', () => {
    const { inner, wrapper, transitions } = setup();
    inner.connect();
    inner.ready();
    inner.lastCall.end(status.UNAVAILABLE);
    expect(clock.countTimers()).toBe(1);
    const count = transitions.length;
    wrapper.dispose();
    expect(clock.countTimers()).toBe(0);
    expect(inner.listenerCount).toBe(0);
    clock.tick(600_000);
    expect(inner.calls).toHaveLength(1);

    const second = setup();
    second.inner.connect();
    second.inner.ready();
    second.wrapper.dispose();
    expect(second.inner.lastCall.cancelled?.code).toBe(status.CANCELLED);
    second.inner.lastCall.respond(ServingStatus.SERVING);
    expect(second.wrapper.getState()).toBe(CONNECTING);
    wrapper.dispose(); // idempotent
    expect(transitions).toHaveLength(count);
  });

  it('goes SHUTDOWN with the connection', () => {
    const { inner, wrapper, transitions } = setup();
    inner.connect();
    inner.ready();
    inner.setState(SHUTDOWN);
    expect(wrapper.getState()).toBe(SHUTDOWN);
    expect(inner.lastCall.cancelled).toBeDefined();
    expect(transitions.at(-1)).toEqual([CONNECTING, SHUTDOWN, undefined]);
  });
});
