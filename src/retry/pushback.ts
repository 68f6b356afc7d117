import type { Metadata } from '@grpc/grpc-js';

/** The trailer a server sets to push back on retries (gRFC A6, "Pushback"). */
export const PUSHBACK_KEY = 'grpc-retry-pushback-ms';

/** {@link parsePushback} result: no pushback trailer; the retry policy's own backoff applies. */
export const PUSHBACK_ABSENT = -1;

/**
 * {@link parsePushback} result: the server asked the client not to retry (gRFC A6: "If the value for
 * pushback is negative or unparseable, then it will be seen as the server asking the client not to retry
 * at all"). For hedging it means: send no further hedges.
 */
export const PUSHBACK_STOP = -2;

/** Largest valid pushback: A6 defines the value as a signed 32-bit integer, in milliseconds. */
export const MAX_PUSHBACK_MS = 2147483647;

const DIGITS = /^\d+$/;

/**
 * Read the `grpc-retry-pushback-ms` trailer of a failed attempt (gRFC A6, "Pushback").
 *
 * - absent → {@link PUSHBACK_ABSENT} (-1);
 * - one value, or several identical values, of ASCII digits only (`^\d+$`, leading zeros tolerated)
 *   whose value is at most {@link MAX_PUSHBACK_MS} → that delay in milliseconds (0 means "retry now");
 * - anything else → {@link PUSHBACK_STOP} (-2): negative (`-5`), empty, whitespace, signs, decimals,
 *   exponents, hex, above int32 range, a binary (Buffer) value, or several values that disagree.
 *
 * Unlike grpc-js 1.14 (which `parseInt`s the value, so `"abc"` becomes NaN and the retry fires at once),
 * an unparseable value never leads to a retry: A6 says it means "do not retry".
 *
 * Never throws. Allocation-free apart from the array `Metadata.get` returns.
 *
 * @param metadata the attempt's trailing metadata (or the Trailers-Only response metadata).
 * @returns a delay in ms (>= 0), {@link PUSHBACK_ABSENT} or {@link PUSHBACK_STOP}.
 */
export function parsePushback(metadata: Metadata): number {
  const values = metadata.get(PUSHBACK_KEY);
  if (values.length === 0) return PUSHBACK_ABSENT;
  const first = parseValue(values[0]);
  for (let i = 1; i < values.length; i++) {
    // Repeated identical values are harmless (a proxy may duplicate trailers); disagreeing ones are
    // ambiguous, and A6 resolves doubt towards "do not retry".
    if (parseValue(values[i]) !== first) return PUSHBACK_STOP;
  }
  return first;
}

function parseValue(value: unknown): number {
  if (typeof value !== 'string' || !DIGITS.test(value)) return PUSHBACK_STOP;
  const ms = Number(value);
  return ms <= MAX_PUSHBACK_MS ? ms : PUSHBACK_STOP;
}
