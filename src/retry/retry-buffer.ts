/**
 * @packageDocumentation
 * Accounting for the retry buffer of gRFC A6 ("Memory Management (Buffering)"): the outgoing messages a
 * call keeps so that a retry or a hedge can replay them. Only the byte counts live here; the call keeps
 * the messages themselves.
 *
 * A6 asks for two client-side limits (never taken from the service config): one per call, so that one
 * large call cannot starve the others, and one shared by all calls of the channel. When a message does
 * not fit, the call is *committed*: it continues on its current attempt and is never retried or hedged
 * again, and its buffered bytes can be released at once.
 */

/** Default per-call limit (`perCallRetryBufferBytes`): 256 KiB, as grpc-go. */
export const DEFAULT_PER_CALL_RETRY_BUFFER_BYTES = 256 * 1024;
/** Default per-channel limit (`perChannelRetryBufferBytes`): 16 MiB, as grpc-js. */
export const DEFAULT_PER_CHANNEL_RETRY_BUFFER_BYTES = 16 * 1024 * 1024;

/** The shared, per-channel side of the retry buffer. One per channel; mutated by {@link tryBuffer}. */
export interface RetryBufferBudget {
  /** Most bytes one call may keep buffered. */
  readonly perCallLimitBytes: number;
  /** Most bytes all calls of the channel together may keep buffered. */
  readonly perChannelLimitBytes: number;
  /** Bytes currently buffered by all calls of the channel. */
  bytesInUse: number;
}

/**
 * The per-call side. The channel's call object can carry these two fields itself (no extra allocation
 * per call), or use {@link newRetryBufferCall}.
 */
export interface RetryBufferCall {
  /** The channel budget this call draws from. */
  readonly retryBudget: RetryBufferBudget;
  /** Bytes this call has buffered; -1 once released (the call no longer buffers anything). */
  retryBufferedBytes: number;
}

/**
 * Create a channel's budget.
 * @param perCallLimitBytes bytes, a non-negative integer (validated by the channel options as
 *   `options.perCallRetryBufferBytes`). Default {@link DEFAULT_PER_CALL_RETRY_BUFFER_BYTES}.
 * @param perChannelLimitBytes bytes, a non-negative integer (`options.perChannelRetryBufferBytes`).
 *   Default {@link DEFAULT_PER_CHANNEL_RETRY_BUFFER_BYTES}.
 */
export function createRetryBufferBudget(
  perCallLimitBytes: number = DEFAULT_PER_CALL_RETRY_BUFFER_BYTES,
  perChannelLimitBytes: number = DEFAULT_PER_CHANNEL_RETRY_BUFFER_BYTES,
): RetryBufferBudget {
  return { perCallLimitBytes, perChannelLimitBytes, bytesInUse: 0 };
}

/** A fresh per-call state with nothing buffered, drawing from `budget`. */
export function newRetryBufferCall(budget: RetryBufferBudget): RetryBufferCall {
  return { retryBudget: budget, retryBufferedBytes: 0 };
}

/**
 * Account for one outgoing message of `bytes` bytes (its serialized size).
 *
 * @returns true if it fits in both the call's and the channel's limits (the bytes are now counted);
 *   false if it does not, or if the call was already released — then nothing is counted and the call
 *   must commit (A6: "the RPC becomes committed") and call {@link releaseCall}.
 */
export function tryBuffer(call: RetryBufferCall, bytes: number): boolean {
  const used = call.retryBufferedBytes;
  if (used < 0) return false;
  const budget = call.retryBudget;
  if (used + bytes > budget.perCallLimitBytes || budget.bytesInUse + bytes > budget.perChannelLimitBytes) {
    return false;
  }
  call.retryBufferedBytes = used + bytes;
  budget.bytesInUse += bytes;
  return true;
}

/**
 * Return the call's bytes to the channel budget: when the call commits (to one attempt) or ends (A6:
 * "After the RPC response has been returned to the client application layer, the RPC is removed from
 * the buffer"). Idempotent; afterwards {@link tryBuffer} refuses this call.
 */
export function releaseCall(call: RetryBufferCall): void {
  const used = call.retryBufferedBytes;
  if (used > 0) call.retryBudget.bytesInUse -= used;
  call.retryBufferedBytes = -1;
}
