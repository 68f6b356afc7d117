import { ConfigError } from '../errors';

/** The JSON number grammar (RFC 8259 §6), used for numbers that arrive as strings. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Largest value of a proto3 `uint32` (and of `google.protobuf.UInt32Value`). */
export const UINT32_MAX = 4_294_967_295;

/**
 * Read a numeric field the way the proto3 JSON mapping does: a JSON number, or a string holding a
 * JSON number (`10` and `"10"` are the same `uint32`).
 * @returns the finite number, or `undefined` if `value` is neither form (or is NaN / ±Infinity).
 */
export function readJsonNumber(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && JSON_NUMBER.test(value)) n = Number(value);
  else return undefined;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Parse a proto3 `uint32` / `google.protobuf.UInt32Value` field (number or numeric string).
 * @param path JSON path of the field, for the error.
 * @returns an integer in [0, 4 294 967 295].
 * @throws ConfigError `<path>: must be an integer in [0, 4294967295]` otherwise.
 */
export function parseUint32(value: unknown, path: string): number {
  const n = readJsonNumber(value);
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > UINT32_MAX) {
    throw new ConfigError(path, `must be an integer in [0, ${UINT32_MAX}]`, value);
  }
  return n;
}
