import type { InterceptingListener, StatusObject } from '@grpc/grpc-js';
import type { GrpcCall } from './subchannel-grpc-channel';

/**
 * How far an attempt got, in gRFC A6's terms ("Transparent Retries"): `NOT_STARTED` never left the
 * client, `REFUSED` reached the server's HTTP/2 layer but not the application. The call layer reads it
 * from the status object's `progress` field (absent = processed by the server).
 */
export type AttemptProgress = 'NOT_STARTED' | 'REFUSED';

/** grpc-js 1.14's status details for a stream the server refused with RST_STREAM(REFUSED_STREAM). */
export const REFUSED_STREAM_DETAILS = 'Stream refused by server';
/** grpc-js 1.14's status details for a call still waiting for a pick when its channel was closed. */
export const CLOSED_BEFORE_START_DETAILS = 'Channel closed before call started';
/** grpc-js 1.14's status details prefix for a stream that could not be opened on a picked connection. */
export const STREAM_START_FAILED_PREFIX = 'Failed to start HTTP/2 stream';

/**
 * Label an attempt's status with how far it got, so the call layer can apply gRFC A6's transparent
 * retry rules. grpc-js knows this (its internal `progress`), but a call made through its public
 * `Channel.createCall` with retries disabled reports the status without it; its status details are the
 * only public trace. So, for a status that came before any response headers:
 *
 * - {@link REFUSED_STREAM_DETAILS} → `REFUSED` (e.g. a stream that raced with a GOAWAY: graceful
 *   shutdown, `max_connection_age`). A server could send the same text as its own status message;
 *   the call layer retries a refused attempt only once per call (A6), which bounds what that buys it.
 * - {@link STREAM_START_FAILED_PREFIX}, or {@link CLOSED_BEFORE_START_DETAILS} when `closedLocally()` says
 *   switchyard itself closed the attempt's grpc-js channel → `NOT_STARTED`: nothing was sent. The
 *   `closedLocally` condition keeps a server from faking "never started" (which is retried until the
 *   deadline) with a status message.
 *
 * Costs one small wrapper object per attempt; every other method is passed straight through.
 *
 * @param call the grpc-js call of one attempt on a switchyard subchannel's own grpc-js channel.
 * @param closedLocally true once switchyard closed that grpc-js channel (connection lost or shut down).
 * @returns a call with the same behaviour whose status may carry `progress`.
 */
export function labelProgress(call: GrpcCall, closedLocally: () => boolean): GrpcCall {
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
        listener.onReceiveStatus(progress === undefined ? status : ({ ...status, progress } as StatusObject));
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
