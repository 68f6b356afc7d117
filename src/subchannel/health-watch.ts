import { Metadata, status as grpcStatus, type StatusObject } from '@grpc/grpc-js';
import type { StreamSubchannel } from './types';
import { HEALTH_WATCH_METHOD, decodeHealthCheckResponse, encodeHealthCheckRequest } from './health-proto';

/** What one running `Watch` stream reports. Never called after {@link HealthWatch.cancel}. */
export interface HealthWatchHandlers {
  /** A `HealthCheckResponse` arrived; `servingStatus` is its decoded `status` (see `ServingStatus`). */
  onStatus(servingStatus: number): void;
  /** The stream ended (any code, OK included); the watch is finished. */
  onEnd(status: StatusObject): void;
}

/** One `grpc.health.v1.Health/Watch` call on one connection. */
export interface HealthWatch {
  /** Cancel the stream; no handler is called afterwards. Idempotent. */
  cancel(): void;
}

/**
 * Open the server-streaming `grpc.health.v1.Health/Watch` call of gRFC A17 on `subchannel`'s current
 * connection, with no deadline, and read every response until the stream ends.
 *
 * A response that does not parse cancels the stream, which then ends with INTERNAL (grpc-core does the
 * same: the retry logic treats it as any other failed stream).
 *
 * @param subchannel a READY subchannel; if it is not, the call fails at once with UNAVAILABLE.
 * @param serviceName `HealthCheckRequest.service` (may be `""`: the server's overall health).
 * @param handlers receives the responses and the final status, asynchronously.
 */
export function startHealthWatch(subchannel: StreamSubchannel, serviceName: string, handlers: HealthWatchHandlers): HealthWatch {
  let active = true;
  const call = subchannel.createStream(HEALTH_WATCH_METHOD, Infinity);
  call.start(new Metadata(), {
    onReceiveMetadata() {},
    onReceiveMessage(message: Buffer) {
      if (!active) return;
      let servingStatus: number;
      try {
        servingStatus = decodeHealthCheckResponse(message);
      } catch (error) {
        call.cancelWithStatus(grpcStatus.INTERNAL, `health check: ${(error as Error).message}`);
        return;
      }
      handlers.onStatus(servingStatus);
      // A handler may have cancelled the watch (e.g. the subchannel was released).
      if (active) call.startRead();
    },
    onReceiveStatus(status: StatusObject) {
      if (!active) return;
      active = false;
      handlers.onEnd(status);
    },
  });
  call.sendMessageWithContext({}, encodeHealthCheckRequest(serviceName));
  call.halfClose();
  call.startRead();
  return {
    cancel() {
      if (!active) return;
      active = false;
      call.cancelWithStatus(grpcStatus.CANCELLED, 'health check stopped');
    },
  };
}
