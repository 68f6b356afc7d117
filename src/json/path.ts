import { ConfigError } from '../errors';

/** A JSON object as read from a service config: only its own properties are ever consulted. */
export type JsonObject = { readonly [key: string]: unknown };

/** True for a non-null, non-array object (what JSON calls an object). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON path of field `key` under `parent` (`''` is the document root): `a.b`. */
export function fieldPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** The JSON path of element `index` of the array at `parent`: `a[3]`. */
export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/**
 * The value of an own property of `object`, with JSON `null` read as absent: proto3's JSON mapping
 * treats `null` as "field not set", and inherited names such as `toString` must never be fields.
 * @returns the value, or `undefined` when the field is absent or `null`.
 */
export function getField(object: JsonObject, key: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(object, key)) return undefined;
  const value = object[key];
  return value === null ? undefined : value;
}

/**
 * @returns `value` as a JSON object.
 * @throws ConfigError `<path>: must be an object` otherwise.
 */
export function expectObject(value: unknown, path: string): JsonObject {
  if (!isJsonObject(value)) throw new ConfigError(path, 'must be an object', value);
  return value;
}

/**
 * @returns `value` as an array.
 * @throws ConfigError `<path>: must be an array` otherwise.
 */
export function expectArray(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new ConfigError(path, 'must be an array', value);
  return value;
}

/**
 * @returns `value` as a boolean.
 * @throws ConfigError `<path>: must be a boolean` otherwise.
 */
export function expectBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(path, 'must be a boolean', value);
  return value;
}

/**
 * @returns `value` as a string.
 * @throws ConfigError `<path>: must be a string` otherwise.
 */
export function expectString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new ConfigError(path, 'must be a string', value);
  return value;
}
