import { status as Status, type InterceptingListener, type StatusObject } from '@grpc/grpc-js';
import type { AttemptProgress, TransportStream } from '../types';

/** grpc-js 1.14's status details for a stream the server refused with RST_STREAM(REFUSED_STREAM). */
export const REFUSED_STREAM_DETAILS = 'Stream refused by server';
/** grpc-js 1.14's status details for a call still waiting for a pick when its channel was closed. */
export const CLOSED_BEFORE_START_DETAILS = 'Channel closed before call started';
/** grpc-js 1.14's status details prefix for a stream that could not be opened on a picked connection. */
export const STREAM_START_FAILED_PREFIX = 'Failed to start HTTP/2 stream';

/**
 * Make an attempt's final status what the call layer needs, for a grpc-js call on a switchyard
 * subchannel's own grpc-js channel:
 *
 * 1. **How far it got.** grpc-js knows (its internal `progress`), but a call made through its public
 *    `Channel.createCall` with retries disabled reports the status without it; the status details are
 *    the only public trace. For a status that came before any response headers:
 *    - {@link REFUSED_STREAM_DETAILS} → `REFUSED` (a stream that raced with a GOAWAY: graceful shutdown,
 *      `max_connection_age`). A server could send the same text as its status message; the call layer
 *      retries a refused attempt only once per call (A6), which bounds what that buys it.
 *    - {@link STREAM_START_FAILED_PREFIX}, or {@link CLOSED_BEFORE_START_DETAILS} when `closedLocally()`
 *      says switchyard itself closed the attempt's grpc-js channel → `NOT_STARTED`: nothing was sent.
 *      The `closedLocally` condition keeps a server from faking "never started" (retried until the
 *      deadline) with a status message.
 * 2. **A usable code.** grpc-js turns the `grpc-status` header into a number with `Number()`, so a
 *    malformed value (`abc`, `1.5`, `-3`) arrives as `NaN` or a non-code. PROTOCOL-HTTP2 allows only
 *    digits; such a status becomes UNKNOWN (as grpc-java does), with a note in the details. Integers
 *    above 16 are kept: they are well-formed, only unknown (grpc-go keeps them too).
 *
 * Costs one small wrapper listener per attempt; every other method is passed straight through.
 *
 * @param call the grpc-js call of one attempt.
 * @param closedLocally true once switchyard closed that grpc-js channel (connection lost or shut down).
 * @returns the same call object, whose status may carry `progress` and has an integer code >= 0.
 */
export function annotateAttemptStatus(call: TransportStream, closedLocally: () => boolean): TransportStream {
  const start = call.start.bind(call);
  call.start = (metadata, listener: InterceptingListener) => {
    let headers = false;
    start(metadata, {
      onReceiveMetadata(received) {
        headers = true;
        listener.onReceiveMetadata(received);
      },
      onReceiveMessage(message) {
        listener.onReceiveMessage(message);
      },
      onReceiveStatus(status) {
        const progress = headers ? undefined : progressOf(status.details, closedLocally);
        const validCode = Number.isInteger(status.code) && status.code >= 0;
        if (progress === undefined && validCode) return listener.onReceiveStatus(status);
        const annotated: StatusObject & { progress?: AttemptProgress } = validCode
          ? { ...status }
          : { ...status, code: Status.UNKNOWN, details: `invalid grpc-status from the server (${String(status.code)}): ${status.details}` };
        if (progress !== undefined) annotated.progress = progress;
        listener.onReceiveStatus(annotated);
      },
    });
  };
  return call;
}

function progressOf(details: string, closedLocally: () => boolean): AttemptProgress | undefined {
  if (details === REFUSED_STREAM_DETAILS) return 'REFUSED';
  if (details.startsWith(STREAM_START_FAILED_PREFIX)) return 'NOT_STARTED';
  if (details === CLOSED_BEFORE_START_DETAILS && closedLocally()) return 'NOT_STARTED';
  return undefined;
}
