import { performance } from 'node:perf_hooks';
import type { Metadata, status } from '@grpc/grpc-js';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import { STATUS_CODE_NAMES } from '../config/status-code';
import type { ChannelLog } from './debug-log';
import { ATTR, type CallInstruments } from './instruments';
import type { AttemptTrace, CallObserver, CallTrace, ObservedAttemptKind } from './observer';
import type { Otel } from './otel';

/** Upper bound on cached attribute sets per channel (methods × status codes); past it they are built per call. */
const MAX_CACHED_ATTRIBUTES = 4096;

/** What a channel's call telemetry records to; each part is optional. */
export interface CallTelemetryParts {
  readonly target: string;
  readonly metrics?: CallInstruments;
  readonly tracing?: { readonly otel: Otel; readonly tracer: Tracer };
  readonly log?: ChannelLog;
}

/**
 * A channel's {@link CallObserver}: gRFC A66 per-attempt and per-call metrics, gRFC A96 retry
 * metrics, gRFC A72 spans (a `Sent.<method>` span per call, an `Attempt.<method>` child per attempt,
 * the attempt's context injected into its metadata with the global propagator), and the debug log's
 * `call` and `retry` lines. One {@link CallRecord} per call and one {@link AttemptRecord} per attempt.
 */
export class CallTelemetry implements CallObserver {
  private readonly attributes = new Map<string, Attributes>();

  constructor(readonly parts: CallTelemetryParts) {}

  startCall(method: string): CallTrace {
    return new CallRecord(this, method);
  }

  /** `{grpc.method, grpc.target}` (code −1) or with `grpc.status`, cached per method and code. */
  attributesFor(method: string, code: number): Attributes {
    const key = `${code} ${method}`;
    let attributes = this.attributes.get(key);
    if (attributes === undefined) {
      // gRFC A66: `grpc.method` is the full method name without the leading slash.
      attributes = { [ATTR.method]: method.startsWith('/') ? method.slice(1) : method, [ATTR.target]: this.parts.target };
      if (code >= 0) attributes[ATTR.status] = STATUS_CODE_NAMES[code] ?? String(code);
      Object.freeze(attributes);
      if (this.attributes.size < MAX_CACHED_ATTRIBUTES) this.attributes.set(key, attributes);
    }
    return attributes;
  }
}

/** One call: its start time, attempt counts for A96, its span. */
class CallRecord implements CallTrace {
  private readonly startedAt = performance.now();
  readonly span: Span | undefined;
  private retries = 0;
  private hedges = 0;
  private transparent = 0;
  private inFlight = 0;
  /** When the last attempt in flight ended (A96 retry delay), or −1 while one is in flight. */
  private idleSince = -1;
  private delayMs = 0;

  constructor(
    readonly telemetry: CallTelemetry,
    readonly method: string,
  ) {
    const { tracing, log } = telemetry.parts;
    if (tracing !== undefined) {
      const { otel, tracer } = tracing;
      this.span = tracer.startSpan(`Sent.${stripSlash(method)}`, { kind: otel.SpanKind.CLIENT }, otel.context.active());
    }
    if (log?.call) log.write('call', 'D', `${method}: started`);
  }

  startAttempt(kind: ObservedAttemptKind, previousAttempts: number, endpoint: string, metadata: Metadata, owned: boolean): AttemptTrace {
    if (kind === 'retry') this.retries++;
    else if (kind === 'hedge') this.hedges++;
    else if (kind === 'transparent') this.transparent++;
    if (this.inFlight++ === 0 && this.idleSince >= 0) this.delayMs += performance.now() - this.idleSince;
    const { metrics, log } = this.telemetry.parts;
    metrics?.attemptStarted.add(1, this.telemetry.attributesFor(this.method, -1));
    if (log?.retry && kind !== 'initial') {
      log.write('retry', 'D', `${this.method}: ${kind} attempt ${previousAttempts + 1}${endpoint ? ` to ${endpoint}` : ' (pick failed)'}`);
    }
    // gRFC A66: the first attempt's duration includes the time it took to pick a subchannel.
    const startedAt = previousAttempts === 0 && kind === 'initial' ? this.startedAt : performance.now();
    return new AttemptRecord(this, kind, previousAttempts, endpoint, metadata, owned, startedAt);
  }

  /** An attempt ended (called by its record). */
  attemptEnded(): void {
    if (--this.inFlight === 0) this.idleSince = performance.now();
  }

  commit(attempt: number, endpoint: string, reason: string): void {
    const log = this.telemetry.parts.log;
    if (log?.retry) log.write('retry', 'D', `${this.method}: committed to attempt ${attempt}${endpoint ? ` on ${endpoint}` : ''} (${reason})`);
  }

  end(code: status, details: string): void {
    const { metrics, log } = this.telemetry.parts;
    const elapsedMs = performance.now() - this.startedAt;
    if (metrics !== undefined) {
      const telemetry = this.telemetry;
      metrics.callDuration.record(elapsedMs / 1000, telemetry.attributesFor(this.method, code));
      const attributes = telemetry.attributesFor(this.method, -1);
      // gRFC A96: a call with none of them records no 0.
      if (this.retries > 0) metrics.callRetries.record(this.retries, attributes);
      if (this.hedges > 0) metrics.callHedges.record(this.hedges, attributes);
      if (this.transparent > 0) metrics.callTransparentRetries.record(this.transparent, attributes);
      if (this.retries + this.hedges + this.transparent > 0) metrics.callRetryDelay.record(this.delayMs / 1000, attributes);
    }
    if (this.span !== undefined) endSpan(this.telemetry.parts.tracing!.otel, this.span, code, details);
    if (log?.call) log.write('call', code === 0 ? 'D' : 'I', `${this.method}: ended ${statusName(code)} after ${elapsedMs.toFixed(1)} ms${code === 0 ? '' : `: ${details}`}`);
  }
}

/** One attempt: bytes and messages each way, its span. */
class AttemptRecord implements AttemptTrace {
  readonly metadata: Metadata;
  private readonly span: Span | undefined;
  private sentBytes = 0;
  private receivedBytes = 0;
  private sentMessages = 0;
  private receivedMessages = 0;
  private ended = false;

  constructor(
    private readonly call: CallRecord,
    kind: ObservedAttemptKind,
    previousAttempts: number,
    endpoint: string,
    metadata: Metadata,
    owned: boolean,
    private readonly startedAt: number,
  ) {
    const tracing = call.telemetry.parts.tracing;
    if (tracing === undefined || call.span === undefined) {
      this.metadata = metadata;
      return;
    }
    const { otel, tracer } = tracing;
    const parent = otel.trace.setSpan(otel.context.active(), call.span);
    const attributes: Attributes = { 'previous-rpc-attempts': previousAttempts, 'transparent-retry': kind === 'transparent' };
    if (endpoint !== '') attributes['network.peer.address'] = endpoint;
    const span = tracer.startSpan(`Attempt.${stripSlash(call.method)}`, { kind: otel.SpanKind.CLIENT, attributes }, parent);
    this.span = span;
    // gRFC A72: the attempt's span context goes to the server through the configured propagator.
    this.metadata = owned ? metadata : metadata.clone();
    otel.propagation.inject(otel.trace.setSpan(parent, span), this.metadata, METADATA_SETTER);
  }

  sent(bytes: number): void {
    this.sentBytes += bytes;
    this.span?.addEvent('Outbound message', { 'sequence-number': this.sentMessages, 'message-size': bytes });
    this.sentMessages++;
  }

  received(bytes: number): void {
    this.receivedBytes += bytes;
    this.span?.addEvent('Inbound message', { 'sequence-number': this.receivedMessages, 'message-size': bytes });
    this.receivedMessages++;
  }

  end(code: status, details: string): void {
    if (this.ended) return;
    this.ended = true;
    const call = this.call;
    call.attemptEnded();
    const telemetry = call.telemetry;
    const metrics = telemetry.parts.metrics;
    if (metrics !== undefined) {
      const attributes = telemetry.attributesFor(call.method, code);
      metrics.attemptDuration.record((performance.now() - this.startedAt) / 1000, attributes);
      metrics.attemptSent.record(this.sentBytes, attributes);
      metrics.attemptReceived.record(this.receivedBytes, attributes);
    }
    if (this.span !== undefined) endSpan(telemetry.parts.tracing!.otel, this.span, code, details);
  }
}

/** gRFC A72: a span ends with the call's or attempt's status; an error status carries the details. */
function endSpan(otel: Otel, span: Span, code: status, details: string): void {
  span.setAttribute(ATTR.status, statusName(code));
  if (code === 0) span.setStatus({ code: otel.SpanStatusCode.OK });
  else span.setStatus({ code: otel.SpanStatusCode.ERROR, message: `${statusName(code)}: ${details}` });
  span.end();
}

function statusName(code: number): string {
  return STATUS_CODE_NAMES[code] ?? String(code);
}

function stripSlash(method: string): string {
  return method.startsWith('/') ? method.slice(1) : method;
}

/**
 * Writes propagation fields as metadata entries: text fields (W3C `traceparent`) as they are, a
 * binary field (`grpc-trace-bin`, which a text map propagator hands over base64-encoded, gRFC A72) as bytes.
 */
const METADATA_SETTER = {
  set(carrier: Metadata, key: string, value: string): void {
    carrier.set(key, key.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
  },
};
