/**
 * Drives a `ResilientCall` (over the `call-fakes` channel side, with sinon fake timers) through a scripted
 * server: each attempt, in the order attempts are created, is answered by the next {@link ServerReply}.
 * Shared by the property tests on server-controlled input (pushback values, status codes).
 */
import { Metadata } from '@grpc/grpc-js';
import type sinon from 'sinon';
import { flush, startCall, type FakeHost, type FakeStream, type RecordingListener } from './call-fakes';

/** What the fake server does with one attempt. */
export interface ServerReply {
  /** Final status code: any integer, valid gRPC code or not. */
  readonly code: number;
  /** `grpc-retry-pushback-ms` trailer values (several = the trailer repeated); none when empty. */
  readonly pushback?: readonly string[];
  /** Send response headers first (commits the call, gRFC A6). */
  readonly headersFirst?: boolean;
  /** Answer after this many (fake) ms instead of at once. */
  readonly delayMs?: number;
}

/** How a scripted call ended. */
export interface ScriptedCall {
  readonly listener: RecordingListener;
  /** Fake time the status reached the listener, or undefined if it never did. */
  readonly endedAt: number | undefined;
  /** Attempts created on subchannels. */
  readonly attempts: number;
}

/**
 * Start a unary call on `host` with `deadline` (absolute fake ms) and answer every attempt from `replies`
 * (cycling), firing timers until the call ends or `maxSteps` timers have fired. The fake server's own
 * timers (`delayMs`) are cleared before returning, so `clock.countTimers()` then counts only the call's.
 */
export async function runScriptedCall(
  clock: sinon.SinonFakeTimers,
  host: FakeHost,
  replies: readonly ServerReply[],
  deadline: number,
  maxSteps = 50,
): Promise<ScriptedCall> {
  const { listener } = startCall(host, { deadline });
  const serverTimers: ReturnType<typeof setTimeout>[] = [];
  const answer = (call: FakeStream, reply: ServerReply): void => {
    if (call.ended) return;
    if (reply.headersFirst) call.respondHeaders(new Metadata());
    const trailers = new Metadata();
    for (const value of reply.pushback ?? []) trailers.add('grpc-retry-pushback-ms', value);
    call.ended = true;
    call.listener!.onReceiveStatus({ code: reply.code, details: `server says ${reply.code}`, metadata: trailers });
  };
  let answered = 0;
  let endedAt: number | undefined;
  for (let step = 0; step <= maxSteps; step++) {
    await flush();
    while (answered < host.calls.length) {
      const call = host.calls[answered]!;
      const reply = replies[answered % replies.length]!;
      answered++;
      if (reply.delayMs !== undefined && reply.delayMs > 0) serverTimers.push(setTimeout(() => answer(call, reply), reply.delayMs));
      else answer(call, reply);
      await flush();
    }
    if (listener.statuses.length > 0) {
      endedAt = Date.now();
      break;
    }
    if (clock.countTimers() === 0) break;
    await clock.nextAsync();
  }
  if (listener.statuses.length > 0) endedAt ??= Date.now();
  for (const timer of serverTimers) clearTimeout(timer);
  await flush();
  return { listener, endedAt, attempts: host.calls.length };
}
