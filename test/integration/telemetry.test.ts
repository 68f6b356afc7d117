/**
 * OpenTelemetry end to end: switchyard channels over real grpc-js echo servers on loopback, recording
 * into a real `@opentelemetry/sdk-metrics` MeterProvider (in-memory pull reader) and a real
 * `@opentelemetry/sdk-trace-base` provider (in-memory exporter). Names, units and attributes are
 * gRFC A66 (per call / per attempt), A96 (retries, hedges), A94 (subchannels), A78 (pick_first) and
 * A72 (spans); switchyard's own instruments are listed in docs/observability.md.
 */
import * as grpc from '@grpc/grpc-js';
import { propagation, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/channel-wait';
import { unary, unaryOutcome, type EchoReply } from '../helpers/echo-client';
import { echoServiceDefinition, startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { counterSum, createTestOtel, histogram, pointWith, testPropagator, type TestOtel } from '../helpers/otel';
import { echoConfig, noJitter, retryPolicyJson, rig, Status, type Rig } from '../helpers/resilience';

const METHOD = 'switchyard.demo.Echo/Unary';
const SPAN_CALL = `Sent.${METHOD}`;
const SPAN_ATTEMPT = `Attempt.${METHOD}`;

let fast: EchoServerHandle;
let slow: EchoServerHandle;
let otel: TestOtel;
let r: Rig | undefined;

beforeAll(async () => {
  [fast, slow] = await Promise.all([startEchoServer({ id: 'fast' }), startEchoServer({ id: 'slow' })]);
  slow.setBehaviour({ delayMs: 10_000 });
  // The propagator is global in OpenTelemetry; the channel injects through it (gRFC A72).
  propagation.setGlobalPropagator(testPropagator);
});
afterEach(async () => {
  r?.close();
  r = undefined;
  await otel?.shutdown();
});
afterAll(() => {
  propagation.disable();
  fast.forceStop();
  slow.forceStop();
});

function observedRig(addresses: string[], serviceConfig: object): Rig {
  otel = createTestOtel();
  r = rig(addresses, { serviceConfig, random: noJitter, meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
  return r;
}

function requestBytes(request: object): number {
  return (echoServiceDefinition.Unary!.requestSerialize(request) as Buffer).length;
}

function spansNamed(name: string): ReadableSpan[] {
  return otel.spans.getFinishedSpans().filter((s) => s.name === name);
}

describe('metrics and spans of a call with retries', () => {
  it('records A66 per-attempt and per-call instruments, A96 retry instruments and A72 spans', async () => {
    const { client, channel, settled } = observedRig([fast.address], echoConfig({ retryPolicy: retryPolicyJson({ maxAttempts: 4 }) }));
    const target = channel.getTarget();
    const request = { message: 'hello', fail_code: Status.UNAVAILABLE, fail_attempts: 2 };
    const reply: EchoReply = await unary(client, request);
    expect(reply.attempt).toBe(2);
    await settled();
    const metrics = await otel.metrics();
    const base = { 'grpc.method': METHOD, 'grpc.target': target };

    // Breaking the attempt hook (no startAttempt) leaves these at 0; breaking the status name fails the matches.
    expect(metrics.get('grpc.client.attempt.started')?.unit).toBe('{attempt}');
    expect(counterSum(metrics.get('grpc.client.attempt.started'), base)).toBe(3);
    const duration = metrics.get('grpc.client.attempt.duration');
    expect(duration?.unit).toBe('s');
    expect(histogram(duration, { ...base, 'grpc.status': 'UNAVAILABLE' }).count).toBe(2);
    expect(histogram(duration, { ...base, 'grpc.status': 'OK' }).count).toBe(1);
    // Every attempt sent the one serialized request; only the OK attempt received a response.
    const size = requestBytes(request);
    const sent = metrics.get('grpc.client.attempt.sent_total_compressed_message_size');
    expect(sent?.unit).toBe('By');
    expect(histogram(sent, { ...base, 'grpc.status': 'UNAVAILABLE' })).toEqual({ count: 2, sum: 2 * size });
    expect(histogram(sent, { ...base, 'grpc.status': 'OK' })).toEqual({ count: 1, sum: size });
    const received = metrics.get('grpc.client.attempt.rcvd_total_compressed_message_size');
    expect(histogram(received, { ...base, 'grpc.status': 'UNAVAILABLE' }).sum).toBe(0);
    expect(histogram(received, { ...base, 'grpc.status': 'OK' }).sum).toBeGreaterThan(0);
    expect(metrics.get('grpc.client.call.duration')?.unit).toBe('s');
    expect(histogram(metrics.get('grpc.client.call.duration'), { ...base, 'grpc.status': 'OK' }).count).toBe(1);
    // gRFC A96: retries per call; no hedges or transparent retries, so nothing recorded for them.
    expect(metrics.get('grpc.client.call.retries')?.unit).toBe('{retry}');
    expect(histogram(metrics.get('grpc.client.call.retries'), base)).toEqual({ count: 1, sum: 2 });
    expect(histogram(metrics.get('grpc.client.call.hedges'), base).count).toBe(0);
    expect(histogram(metrics.get('grpc.client.call.transparent_retries'), base).count).toBe(0);
    // Two backoffs (10 ms, 20 ms with no jitter) passed with no attempt in flight.
    expect(histogram(metrics.get('grpc.client.call.retry_delay'), base).sum).toBeGreaterThan(0.025);

    // gRFC A72: one call span, three attempt spans under it.
    const [callSpan, ...others] = spansNamed(SPAN_CALL);
    expect(others).toHaveLength(0);
    expect(callSpan!.status.code).toBe(SpanStatusCode.OK);
    const attempts = spansNamed(SPAN_ATTEMPT).sort((a, b) => Number(a.attributes['previous-rpc-attempts']) - Number(b.attributes['previous-rpc-attempts']));
    expect(attempts.map((s) => [s.attributes['previous-rpc-attempts'], s.attributes['transparent-retry'], s.status.code])).toEqual([
      [0, false, SpanStatusCode.ERROR],
      [1, false, SpanStatusCode.ERROR],
      [2, false, SpanStatusCode.OK],
    ]);
    for (const span of attempts) {
      expect(span.parentSpanContext?.spanId).toBe(callSpan!.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(callSpan!.spanContext().traceId);
      expect(span.attributes['network.peer.address']).toBe(fast.address);
      const outbound = span.events.filter((e) => e.name === 'Outbound message');
      expect(outbound.map((e) => e.attributes)).toEqual([{ 'sequence-number': 0, 'message-size': size }]);
    }
    expect(attempts[2]!.events.filter((e) => e.name === 'Inbound message')).toHaveLength(1);
    // The server saw the context of the attempt that answered (not the call's, not attempt 1's).
    const last = attempts[2]!.spanContext();
    expect(reply.metadata['x-test-span']).toBe(`${last.traceId}-${last.spanId}`);
  });

  it('records A96 hedges for a hedged call, and the cancelled hedge as a CANCELLED attempt', async () => {
    const config = echoConfig(
      { hedgingPolicy: { maxAttempts: 2, hedgingDelay: '0.05s', nonFatalStatusCodes: ['UNAVAILABLE'] } },
      { loadBalancingConfig: [{ round_robin: {} }] },
    );
    const { client, channel, ready, settled, stats } = observedRig([slow.address, fast.address], config);
    await ready();
    await waitFor(() => channel.snapshot().subchannels.filter((s) => s.state === 'READY').length === 2, 'both backends READY');
    // round_robin starts at a random backend: of two calls, one starts on the slow one and hedges.
    await unary(client, { message: 'a' });
    await unary(client, { message: 'b' });
    await settled();
    const hedged = stats().hedges;
    expect(hedged).toBeGreaterThanOrEqual(1);
    const metrics = await otel.metrics();
    const base = { 'grpc.method': METHOD, 'grpc.target': channel.getTarget() };
    expect(counterSum(metrics.get('grpc.client.attempt.started'), base)).toBe(2 + hedged);
    expect(metrics.get('grpc.client.call.hedges')?.unit).toBe('{hedge}');
    expect(histogram(metrics.get('grpc.client.call.hedges'), base)).toEqual({ count: hedged, sum: hedged });
    expect(histogram(metrics.get('grpc.client.call.retries'), base).count).toBe(0);
    expect(histogram(metrics.get('grpc.client.attempt.duration'), { ...base, 'grpc.status': 'CANCELLED' }).count).toBe(hedged);
    expect(histogram(metrics.get('grpc.client.call.duration'), { ...base, 'grpc.status': 'OK' }).count).toBe(2);
    // A hedged call's span has two attempt children: the slow one cancelled, the fast one OK.
    const calls = spansNamed(SPAN_CALL);
    const attempts = spansNamed(SPAN_ATTEMPT);
    const hedgedCall = calls.find((c) => attempts.filter((a) => a.parentSpanContext?.spanId === c.spanContext().spanId).length === 2)!;
    const children = attempts.filter((a) => a.parentSpanContext?.spanId === hedgedCall.spanContext().spanId);
    expect(children.map((a) => [a.attributes['network.peer.address'], a.status.code]).sort()).toEqual(
      [[fast.address, SpanStatusCode.OK], [slow.address, SpanStatusCode.ERROR]].sort(),
    );
    expect(children.find((a) => a.status.code === SpanStatusCode.ERROR)!.status.message).toMatch(/^CANCELLED/);
  });
});

describe('connection, policy and channel metrics', () => {
  it('records A94 subchannel and A78 pick_first connection metrics, resolver updates and throttle tokens', async () => {
    const server = await startEchoServer({ id: 'temp' });
    const { client, channel, ready } = observedRig([server.address], echoConfig({}, { retryThrottling: { maxTokens: 10, tokenRatio: 0.1 } }));
    await ready();
    await unary(client, { message: 'x' });
    const target = { 'grpc.target': channel.getTarget() };
    let metrics = await otel.metrics();
    expect(counterSum(metrics.get('grpc.subchannel.connection_attempts_succeeded'), target)).toBe(1);
    expect(counterSum(metrics.get('grpc.lb.pick_first.connection_attempts_succeeded'), target)).toBe(1);
    expect(metrics.get('grpc.lb.pick_first.connection_attempts_succeeded')?.unit).toBe('{attempt}');
    expect(counterSum(metrics.get('grpc.subchannel.open_connections'), target)).toBe(1);
    expect(counterSum(metrics.get('switchyard.resolver.updates'), target)).toBe(1);
    expect(pointWith(metrics.get('switchyard.client.retry_throttle.tokens'), target)?.value).toBe(10);
    // Losing the connection: one disconnection from pick_first's and from the subchannel's view.
    const lost = new Promise<void>((resolve) => {
      channel.events.on('connectivity', (e) => {
        if (e.previous === grpc.connectivityState.READY) resolve();
      });
    });
    server.forceStop();
    await lost;
    metrics = await otel.metrics();
    expect(counterSum(metrics.get('grpc.lb.pick_first.disconnections'), target)).toBe(1);
    expect(counterSum(metrics.get('grpc.subchannel.disconnections'), { ...target, 'grpc.disconnect_error': 'unknown' })).toBe(1);
    expect(counterSum(metrics.get('grpc.subchannel.open_connections'), target)).toBe(0);
    // The next call fails to connect: a failed attempt from both views.
    const outcome = await unaryOutcome(client, { message: 'y' });
    expect(outcome.status.code).toBe(Status.UNAVAILABLE);
    metrics = await otel.metrics();
    expect(counterSum(metrics.get('grpc.subchannel.connection_attempts_failed'), target)).toBeGreaterThanOrEqual(1);
    expect(counterSum(metrics.get('grpc.lb.pick_first.connection_attempts_failed'), target)).toBeGreaterThanOrEqual(1);
  });
});

describe('channel.snapshot()', () => {
  it('shows the resolution, config, policy, subchannels with their call counts, and the throttle', async () => {
    const { client, channel, settled } = observedRig(
      [fast.address],
      echoConfig({ retryPolicy: retryPolicyJson() }, { retryThrottling: { maxTokens: 10, tokenRatio: 0.1 } }),
    );
    await unary(client, { message: 'x', fail_code: Status.UNAVAILABLE, fail_attempts: 1 });
    await settled();
    const snapshot = channel.snapshot();
    expect(snapshot).toMatchObject({
      target: channel.getTarget(),
      state: 'READY',
      resolution: { endpoints: [[fast.address]], configSource: 'default', lastError: undefined },
      policy: { name: 'pick_first' },
      calls: { started: 1, succeeded: 1, attempts: 2, retries: 1 },
      throttle: { maxTokens: 10, tokenRatio: 0.1 },
    });
    expect(snapshot.resolution.at).toBeTypeOf('number');
    expect(snapshot.serviceConfig).toHaveProperty('retryThrottling', { maxTokens: 10, tokenRatio: 0.1 });
    // The per-subchannel counters (breaking the attempt's end hook leaves inFlight at 2).
    expect(snapshot.subchannels).toEqual([
      { address: fast.address, state: 'READY', lastFailure: undefined, calls: { started: 2, succeeded: 1, failed: 1, inFlight: 0 } },
    ]);
    expect(JSON.parse(JSON.stringify(snapshot))).toMatchObject({ target: channel.getTarget() });
  });
});
