import { ConfigError } from '../errors';
import { parseDuration } from '../json/duration';
import { expectObject, fieldPath, getField, type JsonObject } from '../json/path';

/** The JSON number grammar (RFC 8259 §6), for numbers that arrive as strings (proto3 JSON allows both). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A field that was present: its value and its exact JSON path (under the name actually used). */
export interface ConfigField {
  readonly value: unknown;
  readonly path: string;
}

/**
 * Reads a load-balancing policy's config object the way proto3 JSON is read (grpc-go's `protojson`, the
 * form `doc/service_config.md` specifies): every field under its lowerCamelCase JSON name or its
 * original snake_case proto name, numbers as JSON numbers or numeric strings, durations as `"1.5s"`
 * strings or `{seconds, nanos}` objects, `null` as unset. So a grpc-js 1.14 config (snake_case,
 * `{seconds, nanos}`) and a grpc-go one (camelCase, strings) both parse. Unknown fields are ignored.
 * Every error is a ConfigError at the exact path of the offending field, under the name it was given.
 */
export class PolicyConfigReader {
  private readonly object: JsonObject;

  /**
   * @param json the policy's config value.
   * @param path its JSON path, e.g. `loadBalancingConfig[0].outlier_detection`.
   * @throws ConfigError at `path` if `json` is not a JSON object.
   */
  constructor(json: unknown, readonly path: string) {
    this.object = expectObject(json, path);
  }

  /**
   * The field named `camelName` (or its snake_case form), if set.
   * @throws ConfigError if both forms are set.
   */
  field(camelName: string): ConfigField | undefined {
    const snakeName = camelName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const camel = getField(this.object, camelName);
    const snake = snakeName === camelName ? undefined : getField(this.object, snakeName);
    if (camel !== undefined && snake !== undefined) {
      throw new ConfigError(fieldPath(this.path, snakeName), `must not be set together with "${camelName}" (the same field)`);
    }
    if (camel !== undefined) return { value: camel, path: fieldPath(this.path, camelName) };
    if (snake !== undefined) return { value: snake, path: fieldPath(this.path, snakeName) };
    return undefined;
  }

  /** A `bool` / `BoolValue` field. @throws ConfigError unless a boolean. */
  boolean(camelName: string, fallback: boolean): boolean {
    const f = this.field(camelName);
    if (f === undefined) return fallback;
    if (typeof f.value !== 'boolean') throw new ConfigError(f.path, 'must be a boolean', f.value);
    return f.value;
  }

  /** A non-empty `string` field. @throws ConfigError unless a string. */
  string(camelName: string): string | undefined {
    const f = this.field(camelName);
    if (f === undefined) return undefined;
    if (typeof f.value !== 'string') throw new ConfigError(f.path, 'must be a string', f.value);
    return f.value === '' ? undefined : f.value;
  }

  /**
   * A numeric field (`double`, `float`, `uint32`, `uint64`, or their wrappers).
   * @param rule `integer` requires a whole number; `min` / `max` bound it (inclusive).
   * @throws ConfigError at the field's path naming the range.
   */
  number(camelName: string, fallback: number, rule: { integer?: boolean; min?: number; max?: number } = {}): number {
    const f = this.field(camelName);
    if (f === undefined) return fallback;
    const n = typeof f.value === 'number' ? f.value : typeof f.value === 'string' && JSON_NUMBER.test(f.value) ? Number(f.value) : Number.NaN;
    const min = rule.min ?? Number.NEGATIVE_INFINITY;
    const max = rule.max ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(n) || (rule.integer === true && !Number.isInteger(n)) || n < min || n > max) {
      const range = `${Number.isFinite(min) ? `>= ${min}` : ''}${Number.isFinite(min) && Number.isFinite(max) ? ' and ' : ''}${Number.isFinite(max) ? `<= ${max}` : ''}`;
      throw new ConfigError(f.path, `must be ${rule.integer === true ? 'an integer' : 'a number'}${range === '' ? '' : ` ${range}`}`, f.value);
    }
    return n;
  }

  /**
   * A `google.protobuf.Duration` field, in ms.
   * @throws ConfigError for a malformed duration, or one below `minMs` (default 0: no negative durations).
   */
  durationMs(camelName: string, fallbackMs: number, minMs = 0): number {
    const f = this.field(camelName);
    if (f === undefined) return fallbackMs;
    const ms = parseDuration(f.value, f.path);
    if (ms < minMs) throw new ConfigError(f.path, minMs === 0 ? 'must not be negative' : `must be at least ${minMs / 1000}s`, f.value);
    return ms;
  }

  /** A message field, as a reader of its own. @throws ConfigError unless an object. */
  message(camelName: string): PolicyConfigReader | undefined {
    const f = this.field(camelName);
    return f === undefined ? undefined : new PolicyConfigReader(f.value, f.path);
  }
}
