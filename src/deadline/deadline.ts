import type { Deadline } from '@grpc/grpc-js';
import { ConfigError } from '../errors';

/**
 * @packageDocumentation
 * Deadlines in switchyard are **absolute** times in milliseconds since the Unix epoch (the same scale
 * as `Date.now()`); `Infinity` means "no deadline". Timeouts are **relative** durations in milliseconds.
 * The names say which is which: `deadline` vs `timeoutMs`.
 */

/** "No deadline". */
export const NO_DEADLINE = Infinity;

/**
 * Convert a grpc-js `Deadline` (a `Date` or a number of ms since the epoch; grpc-js treats `Infinity`
 * as "none") to switchyard's absolute-ms form. A deadline in the past is kept as is: the call fails with
 * DEADLINE_EXCEEDED without being sent.
 *
 * @param deadline a grpc-js deadline, or undefined/null for none.
 * @param path the field path named in the error (e.g. `options.deadline`).
 * @returns absolute ms since the epoch, or `Infinity`.
 * @throws ConfigError(`path`) for NaN, an invalid Date, or anything that is neither a Date nor a number.
 */
export function deadlineFromGrpc(deadline: Deadline | undefined | null, path = 'deadline'): number {
  if (deadline === undefined || deadline === null) return Infinity;
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  if (typeof ms !== 'number' || Number.isNaN(ms)) {
    throw new ConfigError(path, 'must be a valid Date or a number of ms since the epoch (Infinity for none)', deadline);
  }
  return ms;
}

/** The earlier of two absolute deadlines (ms since the epoch; Infinity = none). Allocation-free. */
export function minDeadline(a: number, b: number): number {
  return a < b ? a : b;
}

/** Largest TimeoutValue: PROTOCOL-HTTP2 allows "at most 8 digits". */
export const MAX_GRPC_TIMEOUT_VALUE = 99_999_999;

/**
 * Units from finest to coarsest. Sub-millisecond units are described by how many fit in 1 ms and the
 * others by their length in ms, so every conversion multiplies or divides by an exact integer.
 */
interface TimeoutUnit {
  readonly suffix: string;
  readonly perMs: number;
  readonly ms: number;
}
const UNITS: readonly TimeoutUnit[] = [
  { suffix: 'n', perMs: 1e6, ms: 0 },
  { suffix: 'u', perMs: 1e3, ms: 0 },
  { suffix: 'm', perMs: 0, ms: 1 },
  { suffix: 'S', perMs: 0, ms: 1e3 },
  { suffix: 'M', perMs: 0, ms: 60e3 },
  { suffix: 'H', perMs: 0, ms: 3600e3 },
];
const UNIT_BY_SUFFIX: ReadonlyMap<string, TimeoutUnit> = new Map(UNITS.map((u) => [u.suffix, u]));

/**
 * Encode a relative timeout as a `grpc-timeout` header value (grpc/grpc `doc/PROTOCOL-HTTP2.md`:
 * `TimeoutValue` = "positive integer as ASCII string of at most 8 digits", `TimeoutUnit` one of
 * `H M S m u n`).
 *
 * Picks the finest unit whose value fits in 8 digits and **rounds up** to a whole number of that unit,
 * as grpc-go (`encodeTimeout`) and grpc-js do: the header only tells the server when to give up, the
 * client enforces its own deadline, and a server that gave up *before* the client's deadline would turn
 * a call that still had time into a spurious DEADLINE_EXCEEDED. The error is under one unit (< 0.0001 %
 * of the value, given 8 digits).
 *
 * - `timeoutMs <= 0` (already expired) → `"1n"`: the smallest value the grammar allows ("positive"),
 *   which servers treat as expired (grpc-go sends `"0n"`, outside the grammar).
 * - beyond 99 999 999 hours (including `Infinity`) → `"99999999H"`; omit the header instead when the
 *   call has no deadline.
 *
 * @param timeoutMs relative timeout in milliseconds (may be fractional).
 * @throws ConfigError(`timeoutMs`) for NaN.
 */
export function toGrpcTimeout(timeoutMs: number): string {
  if (Number.isNaN(timeoutMs)) throw new ConfigError('timeoutMs', 'must be a number', timeoutMs);
  if (timeoutMs <= 0) return '1n';
  for (const unit of UNITS) {
    const amount = ceilUnits(unit.perMs > 0 ? timeoutMs * unit.perMs : timeoutMs / unit.ms);
    if (amount <= MAX_GRPC_TIMEOUT_VALUE) return `${amount}${unit.suffix}`;
  }
  return `${MAX_GRPC_TIMEOUT_VALUE}H`;
}

/** Round up, ignoring floating-point noise such as 0.1 ms × 1e6 = 100000.00000000001 ns. */
function ceilUnits(exact: number): number {
  const nearest = Math.round(exact);
  // One multiplication or division adds at most one ulp of error; 4 ulps of tolerance absorbs it without
  // hiding a real fraction (1 ms in minutes at 8 digits is still 1.7e-5 of a unit).
  return Math.abs(exact - nearest) <= 4 * Number.EPSILON * Math.max(1, nearest) ? nearest : Math.ceil(exact);
}

const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;

/**
 * Parse a `grpc-timeout` header value (PROTOCOL-HTTP2): 1 to 8 ASCII digits and a unit `H M S m u n`,
 * nothing else (no spaces, signs or fractions). `0` is accepted, as some clients (grpc-go) send `"0n"`
 * for an expired deadline.
 *
 * @param value the header value.
 * @returns the relative timeout in milliseconds (fractional for `u`/`n`), or undefined when malformed
 *   (a server answers INTERNAL, as grpc-js does).
 */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = GRPC_TIMEOUT.exec(value);
  if (match === null) return undefined;
  const unit = UNIT_BY_SUFFIX.get(match[2]!)!;
  const amount = Number(match[1]);
  return unit.perMs > 0 ? amount / unit.perMs : amount * unit.ms;
}
