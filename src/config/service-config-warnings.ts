import { fieldPath, getField, indexPath, isJsonObject, type JsonObject } from '../json/path';

/**
 * Something in a service config that parses but silently changes nothing: an unknown field (gRPC
 * ignores it for forward compatibility, `doc/service_config.md`), a method config that names no
 * method, or a name that no method path can match.
 */
export interface ConfigWarning {
  /** The JSON path of the field, e.g. `methodConfig[0].retrypolicy`. */
  readonly path: string;
  /** What is wrong and its effect, e.g. `unknown field, ignored (did you mean "retryPolicy"?)`. */
  readonly rule: string;
}

/** What a field holds: an object with known fields, a list of one shape, or a value not inspected here. */
type Shape = { readonly fields: Readonly<Record<string, Shape>> } | { readonly list: Shape } | 'value' | 'unsupported';

const VALUE = 'value';
/** A field gRPC defines that switchyard does not implement: it has no effect. */
const UNSUPPORTED = 'unsupported';
const object = (fields: Record<string, Shape>): Shape => ({ fields });
const list = (of: Shape): Shape => ({ list: of });

/**
 * The fields of `grpc.service_config.ServiceConfig` (grpc/grpc-proto `service_config.proto`, JSON
 * names) that switchyard reads, and the ones it knows but ignores. `loadBalancingConfig` entries are
 * checked by each policy's `parseConfig`, not here.
 */
const METHOD_CONFIG = object({
  name: list(object({ service: VALUE, method: VALUE })),
  waitForReady: VALUE,
  timeout: VALUE,
  maxRequestMessageBytes: VALUE,
  maxResponseMessageBytes: VALUE,
  retryPolicy: object({
    maxAttempts: VALUE,
    initialBackoff: VALUE,
    maxBackoff: VALUE,
    backoffMultiplier: VALUE,
    retryableStatusCodes: VALUE,
    perAttemptRecvTimeout: UNSUPPORTED,
  }),
  hedgingPolicy: object({ maxAttempts: VALUE, hedgingDelay: VALUE, nonFatalStatusCodes: VALUE }),
});
const SERVICE_CONFIG = object({
  loadBalancingConfig: VALUE,
  loadBalancingPolicy: VALUE,
  methodConfig: list(METHOD_CONFIG),
  retryThrottling: object({ maxTokens: VALUE, tokenRatio: VALUE }),
  healthCheckConfig: object({ serviceName: VALUE }),
  connectionScaling: UNSUPPORTED,
});

/**
 * Characters no HTTP/2 `:path` can hold unescaped (whitespace, controls): a `name.service` or
 * `name.method` containing one matches no call.
 */
// eslint-disable-next-line no-control-regex
const NEVER_IN_PATH = /[\s\u0000-\u001f\u007f]/;

/**
 * The warnings for a service config, in document order. Pure: reads `json`, throws nothing (a value
 * of the wrong type is the parser's business and is skipped here).
 *
 * Reported: unknown fields anywhere in the fields switchyard reads (with a "did you mean" for a near
 * miss such as `methodConfg`, `retrypolicy`, `loadBalancingConfigs`, `method_config`); gRPC fields
 * switchyard does not implement; a `methodConfig` entry without names (`service_config.proto`:
 * "MethodConfig without names (empty list) will be skipped"); and a `name` entry whose service or
 * method contains whitespace or control characters.
 *
 * @param json the service config as a parsed JSON value.
 */
export function serviceConfigWarnings(json: unknown): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  walk(json, SERVICE_CONFIG, '', warnings);
  const methodConfigs = isJsonObject(json) ? getField(json, 'methodConfig') : undefined;
  if (Array.isArray(methodConfigs)) {
    methodConfigs.forEach((entry, i) => {
      if (isJsonObject(entry)) checkNames(entry, indexPath('methodConfig', i), warnings);
    });
  }
  return warnings;
}

function walk(value: unknown, shape: Shape, path: string, warnings: ConfigWarning[]): void {
  if (typeof shape === 'string') return;
  if ('list' in shape) {
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, shape.list, indexPath(path, i), warnings));
    return;
  }
  if (!isJsonObject(value)) return;
  for (const key of Object.keys(value)) {
    const fieldShape = Object.prototype.hasOwnProperty.call(shape.fields, key) ? shape.fields[key] : undefined;
    const keyPath = fieldPath(path, key);
    if (fieldShape === undefined) {
      warnings.push({ path: keyPath, rule: `unknown field, ignored${suggestion(key, Object.keys(shape.fields))}` });
    } else if (fieldShape === UNSUPPORTED) {
      warnings.push({ path: keyPath, rule: 'is not supported by switchyard and has no effect' });
    } else {
      walk(value[key], fieldShape, keyPath, warnings);
    }
  }
}

function checkNames(entry: JsonObject, path: string, warnings: ConfigWarning[]): void {
  const names = getField(entry, 'name');
  if (names === undefined || (Array.isArray(names) && names.length === 0)) {
    warnings.push({ path: fieldPath(path, 'name'), rule: 'is missing or empty: this method config applies to no method' });
    return;
  }
  if (!Array.isArray(names)) return;
  names.forEach((name, i) => {
    if (!isJsonObject(name)) return;
    for (const part of ['service', 'method']) {
      const text = getField(name, part);
      if (typeof text === 'string' && NEVER_IN_PATH.test(text)) {
        warnings.push({
          path: fieldPath(indexPath(fieldPath(path, 'name'), i), part),
          rule: `contains whitespace or a control character (${JSON.stringify(text)}): matches no method`,
        });
      }
    }
  });
}

/** ` (did you mean "x"?)` for the known field closest to `key`, when it is a near miss. */
function suggestion(key: string, known: readonly string[]): string {
  const wanted = normalize(key);
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(wanted, normalize(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** Case and `_` do not count: `method_config` and `METHODCONFIG` are `methodConfig` misspelt. */
function normalize(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/** Levenshtein distance (field names are short; O(a·b) is fine). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
