import { ConfigError } from '../errors';
import { fieldPath, getField, isJsonObject } from './path';
import { readJsonNumber } from './number';

/** `google.protobuf.Duration` bounds: ±10 000 years, in seconds. */
export const MAX_DURATION_SECONDS = 315_576_000_000;
const MAX_NANOS = 999_999_999;

/**
 * The proto3 JSON form of a Duration: optional minus, whole seconds, 1 to 9 fraction digits, `s`.
 * The fraction keeps its digits as written: "0.5s" is 500 000 000 ns, not 5 ns.
 */
const DURATION_STRING = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/;

/**
 * Parse a `google.protobuf.Duration` from a service config (gRFC A6, `doc/service_config.md`).
 *
 * Accepts the proto3 JSON string form (`"1.5s"`, `"-0.000340012s"`, at most 9 fraction digits) and
 * the `{ seconds, nanos }` object form (each an integer, as a number or a numeric string; `nanos`
 * within ±999 999 999 and of the same sign as a non-zero `seconds`, as in `duration.proto`).
 * `seconds` must lie within ±315 576 000 000 (the Duration range).
 *
 * Callers enforce their own sign rules (e.g. a backoff must be > 0).
 * @param value the JSON value.
 * @param path the JSON path of the field, e.g. `methodConfig[0].timeout`.
 * @returns the duration in milliseconds, possibly fractional (`"1.000000001s"` → 1000.000001); never -0.
 * @throws ConfigError naming `path` (or `path.seconds` / `path.nanos`) and the rule broken.
 */
export function parseDuration(value: unknown, path: string): number {
  if (typeof value === 'string') return parseDurationString(value, path);
  if (isJsonObject(value)) return parseDurationObject(value, path);
  throw new ConfigError(path, 'must be a duration: a string such as "1.5s" or an object {seconds, nanos}', value);
}

function parseDurationString(value: string, path: string): number {
  const match = DURATION_STRING.exec(value);
  if (match === null) {
    throw new ConfigError(
      path,
      'must be a duration string: decimal seconds with at most 9 fraction digits and an "s" suffix, such as "1.5s"',
      value,
    );
  }
  const negative = match[1] === '-';
  const seconds = Number(match[2]);
  const nanos = match[3] === undefined ? 0 : Number(match[3].padEnd(9, '0'));
  if (seconds > MAX_DURATION_SECONDS) {
    throw new ConfigError(path, `must be within ±${MAX_DURATION_SECONDS}s`, value);
  }
  return toMs(negative ? -seconds : seconds, negative ? -nanos : nanos);
}

function parseDurationObject(value: { readonly [key: string]: unknown }, path: string): number {
  const secondsPath = fieldPath(path, 'seconds');
  const nanosPath = fieldPath(path, 'nanos');
  const rawSeconds = getField(value, 'seconds');
  const rawNanos = getField(value, 'nanos');
  const seconds = rawSeconds === undefined ? 0 : readJsonNumber(rawSeconds);
  if (seconds === undefined || !Number.isInteger(seconds) || Math.abs(seconds) > MAX_DURATION_SECONDS) {
    throw new ConfigError(secondsPath, `must be an integer within ±${MAX_DURATION_SECONDS}`, rawSeconds);
  }
  const nanos = rawNanos === undefined ? 0 : readJsonNumber(rawNanos);
  if (nanos === undefined || !Number.isInteger(nanos) || Math.abs(nanos) > MAX_NANOS) {
    throw new ConfigError(nanosPath, `must be an integer in [-${MAX_NANOS}, ${MAX_NANOS}]`, rawNanos);
  }
  if ((seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    throw new ConfigError(nanosPath, 'must have the same sign as seconds', rawNanos);
  }
  return toMs(seconds, nanos);
}

/** `+ 0` turns -0 into 0 so that "-0s" and "0s" parse to the same value. */
function toMs(seconds: number, nanos: number): number {
  return seconds * 1000 + nanos / 1e6 + 0;
}

/**
 * Format milliseconds as a proto3 JSON Duration string with 0, 3, 6 or 9 fraction digits
 * (`1500` → `"1.500s"`), such that {@link parseDuration} returns the same number.
 * @param ms a finite duration in milliseconds (as returned by `parseDuration`), within the Duration range.
 */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  let seconds = Math.trunc(abs / 1000);
  // abs / 1000 may round up to the next integer; the remainder must stay non-negative.
  if (seconds * 1000 > abs) seconds -= 1;
  let nanos = Math.round((abs - seconds * 1000) * 1e6);
  if (nanos > MAX_NANOS) {
    seconds += 1;
    nanos -= 1e9;
  }
  if (seconds > MAX_DURATION_SECONDS) {
    // Near the bound a float ms value cannot hold nanoseconds: "315576000000.999999999s" parses to
    // exactly 315576000001000 ms. Spell it within range; it parses back to the same number.
    nanos = Math.min(MAX_NANOS, Math.round((abs - MAX_DURATION_SECONDS * 1000) * 1e6));
    seconds = MAX_DURATION_SECONDS;
  }
  if (nanos === 0) return `${sign}${seconds}s`;
  let fraction = String(nanos).padStart(9, '0');
  while (fraction.endsWith('000')) fraction = fraction.slice(0, -3);
  return `${sign}${seconds}.${fraction}s`;
}
