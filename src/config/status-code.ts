import type { status } from '@grpc/grpc-js';
import { ConfigError } from '../errors';
import { expectArray, indexPath } from '../json/path';
import { freezeSet } from './freeze';

/** The canonical gRPC status code names (`doc/statuscodes.md`), indexed by code. */
export const STATUS_CODE_NAMES: readonly string[] = Object.freeze([
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
]);

const CODE_BY_NAME: ReadonlyMap<string, status> = new Map(
  STATUS_CODE_NAMES.map((name, code) => [name, code as status]),
);

/** ASCII only, so that locale-sensitive upper-casing ("ı" → "I") cannot forge a name. */
const NAME_SYNTAX = /^[A-Za-z_]+$/;

const RULE = `must be a status code: an integer 0..${STATUS_CODE_NAMES.length - 1} or a name such as "UNAVAILABLE"`;

/**
 * Parse one status code of a service config list (`retryableStatusCodes`, `nonFatalStatusCodes`):
 * gRFC A6 allows "the integer form or the case-insensitive string form (eg. [14], ["UNAVAILABLE"] or
 * ["unavailable"])".
 * @param value a JSON integer 0..16 or a status name in any letter case.
 * @param path the JSON path of the element, for the error.
 * @returns the grpc-js `status` enum value.
 * @throws ConfigError `<path>: must be a status code: ...` for anything else.
 */
export function parseStatusCode(value: unknown, path: string): status {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value < STATUS_CODE_NAMES.length) return value as status;
  } else if (typeof value === 'string' && NAME_SYNTAX.test(value)) {
    const code = CODE_BY_NAME.get(value.toUpperCase());
    if (code !== undefined) return code;
  }
  throw new ConfigError(path, RULE, value);
}

/**
 * Parse a JSON array of status codes into a frozen set (duplicates collapse).
 * @param path the JSON path of the array; elements are reported as `<path>[i]`.
 * @param nonEmpty reject an empty array (A6: `retryableStatusCodes` "MUST be ... non-empty").
 * @throws ConfigError for a non-array, an empty array when `nonEmpty`, or an invalid element.
 */
export function parseStatusCodeList(value: unknown, path: string, nonEmpty: boolean): ReadonlySet<status> {
  const list = expectArray(value, path);
  if (nonEmpty && list.length === 0) throw new ConfigError(path, 'must be a non-empty array of status codes', value);
  const codes = new Set<status>();
  for (let i = 0; i < list.length; i++) codes.add(parseStatusCode(list[i], indexPath(path, i)));
  return freezeSet(codes);
}
