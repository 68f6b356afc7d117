import { Metadata, status, type InterceptingListener } from '@grpc/grpc-js';
import type { GrpcCall } from './grpc-js/channel-options';

/**
 * A grpc-js call object that never touches the network and ends with `UNAVAILABLE: details` once
 * started (asynchronously, as a real call would). A subchannel returns it from `createCall` when it has
 * no connection (the picker raced with a disconnect): the attempt never left the client, which gRFC A6
 * treats as eligible for transparent retry, so its status carries `progress: 'NOT_STARTED'`.
 *
 * `cancelWithStatus` before the status is delivered replaces it, as cancelling a real call does.
 *
 * @param details the status message, e.g. `subchannel 127.0.0.1:50051 is not READY (IDLE)`.
 * @param peer what `getPeer()` returns (the subchannel's address key).
 */
export function createFailedCall(details: string, peer: string): GrpcCall {
  let listener: InterceptingListener | undefined;
  let code: status = status.UNAVAILABLE;
  let message = details;
  let delivered = false;
  const deliver = () => {
    if (delivered || listener === undefined) return;
    delivered = true;
    // gRFC A6 "Transparent Retries": labelled as never sent (see `annotateAttemptStatus`).
    const status = { code, details: message, metadata: new Metadata(), progress: 'NOT_STARTED' };
    listener.onReceiveStatus(status);
  };
  return {
    start(_metadata, callListener) {
      listener = callListener;
      process.nextTick(deliver);
    },
    cancelWithStatus(cancelCode, cancelDetails) {
      if (delivered) return;
      code = cancelCode;
      message = cancelDetails;
    },
    getPeer: () => peer,
    sendMessageWithContext(context) {
      // Like grpc-js, complete the write without an error: the call's status carries the failure.
      if (context.callback !== undefined) process.nextTick(context.callback);
    },
    startRead() {},
    halfClose() {},
    getCallNumber: () => 0,
    setCredentials() {},
    getAuthContext: () => null,
  };
}
