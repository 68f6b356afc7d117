import type { Subchannel } from '../picker/types';
import type { TransportStream } from '../transport/types';

/**
 * A subchannel that can carry streams: what the call layer and health checking need beyond the
 * load-balancing policy's view of a subchannel.
 */
export interface StreamSubchannel extends Subchannel {
  /**
   * Start the stream of one attempt on this subchannel's connection. Call the stream's `start()` in the
   * same tick: the connection may be gone in a later one. When the subchannel is not READY (a pick raced
   * with a disconnect) the stream ends with UNAVAILABLE and `progress: 'NOT_STARTED'` without touching
   * the network (gRFC A6: retried transparently).
   * @param method full method path, `/package.Service/Method`.
   * @param deadline absolute ms since the epoch, `Infinity` for none.
   * @param host the call's `:authority` override (grpc-js `CallOptions.host`), if any.
   */
  createStream(method: string, deadline: number, host?: string): TransportStream;
}
