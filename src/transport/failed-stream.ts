import { Metadata, type InterceptingListener, type status } from '@grpc/grpc-js';
import type { AttemptProgress, AttemptStatus, TransportStream } from './types';

/**
 * A stream that never touches the network and ends with `code: details` once started (on the next
 * tick, as a real stream would). Used for an attempt whose pick failed (the picker's `fail` result: a
 * processed attempt the retry policy may retry, gRFC A6) and for a pick that raced with a disconnect
 * (`progress: 'NOT_STARTED'`: never left the client, so A6 retries it transparently).
 *
 * `cancelWithStatus` before the status is delivered replaces it, as cancelling a real stream does.
 * A write completes without error: the status carries the failure (as grpc-js does).
 *
 * @param code the gRPC status code.
 * @param details the status message, e.g. `subchannel 127.0.0.1:50051 is not READY (IDLE)`.
 * @param progress how far the attempt got, if not processed.
 * @param peer what `getPeer()` returns.
 */
export function failedStream(code: status, details: string, progress?: AttemptProgress, peer = ''): TransportStream {
  let listener: InterceptingListener | undefined;
  const final: AttemptStatus = { code, details, metadata: new Metadata() };
  if (progress !== undefined) final.progress = progress;
  let delivered = false;
  const deliver = (): void => {
    if (delivered || listener === undefined) return;
    delivered = true;
    listener.onReceiveStatus(final);
  };
  return {
    start(_metadata, callListener) {
      listener = callListener;
      process.nextTick(deliver);
    },
    cancelWithStatus(cancelCode, cancelDetails) {
      if (delivered) return;
      final.code = cancelCode;
      final.details = cancelDetails;
    },
    getPeer: () => peer,
    sendMessageWithContext(context) {
      if (context.callback !== undefined) process.nextTick(context.callback);
    },
    startRead() {},
    halfClose() {},
    getCallNumber: () => 0,
    setCredentials() {},
    getAuthContext: () => null,
  };
}
