import { ConfigError } from '../errors';
import type { MethodConfig } from './types';
import { parseDuration } from '../json/duration';
import { parseHedgingPolicy } from './hedging-policy';
import { expectBoolean, fieldPath, getField, type JsonObject } from '../json/path';
import { parseUint32 } from '../json/number';
import { parseRetryPolicy } from './retry-policy';

/** Mutable twin of {@link MethodConfig}, filled while parsing and then frozen. */
type Draft = { -readonly [K in keyof MethodConfig]: MethodConfig[K] };

/**
 * Parse the settings of one `methodConfig[]` entry (everything but `name`), per
 * `doc/service_config.md` and `service_config.proto`:
 * - `timeout`: duration >= 0 (gRPC core rejects negative durations; 0 fails calls at once),
 * - `waitForReady`: boolean,
 * - `maxRequestMessageBytes` / `maxResponseMessageBytes`: `UInt32Value`, 0 allowed,
 * - `retryPolicy` or `hedgingPolicy` (gRFC A6: "Only one of retryPolicy or hedgingPolicy may be set").
 * Absent or `null` fields stay unset; unknown fields are ignored.
 * @param json the entry, already known to be an object.
 * @param path its JSON path, e.g. `methodConfig[1]`.
 * @param maxAttemptsCap the client-side cap on `maxAttempts`.
 * @returns a frozen method config; durations in ms, sizes in bytes.
 * @throws ConfigError naming the first invalid field and the rule broken.
 */
export function parseMethodConfig(json: JsonObject, path: string, maxAttemptsCap: number): MethodConfig {
  const config: Draft = {};
  const timeout = getField(json, 'timeout');
  if (timeout !== undefined) {
    const timeoutPath = fieldPath(path, 'timeout');
    const ms = parseDuration(timeout, timeoutPath);
    if (ms < 0) throw new ConfigError(timeoutPath, 'must be a duration >= 0', timeout);
    config.timeoutMs = ms;
  }
  const waitForReady = getField(json, 'waitForReady');
  if (waitForReady !== undefined) config.waitForReady = expectBoolean(waitForReady, fieldPath(path, 'waitForReady'));
  const maxRequest = getField(json, 'maxRequestMessageBytes');
  if (maxRequest !== undefined) {
    config.maxRequestMessageBytes = parseUint32(maxRequest, fieldPath(path, 'maxRequestMessageBytes'));
  }
  const maxResponse = getField(json, 'maxResponseMessageBytes');
  if (maxResponse !== undefined) {
    config.maxResponseMessageBytes = parseUint32(maxResponse, fieldPath(path, 'maxResponseMessageBytes'));
  }
  const retry = getField(json, 'retryPolicy');
  const hedging = getField(json, 'hedgingPolicy');
  if (retry !== undefined && hedging !== undefined) {
    throw new ConfigError(path, 'must not set both "retryPolicy" and "hedgingPolicy"');
  }
  if (retry !== undefined) {
    config.retryPolicy = parseRetryPolicy(retry, fieldPath(path, 'retryPolicy'), maxAttemptsCap);
  }
  if (hedging !== undefined) {
    config.hedgingPolicy = parseHedgingPolicy(hedging, fieldPath(path, 'hedgingPolicy'), maxAttemptsCap);
  }
  return Object.freeze(config);
}
