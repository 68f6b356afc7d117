import { ConfigError } from '../errors';
import type { HedgingPolicy } from './types';
import { parseDuration } from '../json/duration';
import { freezeSet } from './freeze';
import { expectObject, fieldPath, getField } from '../json/path';
import { parseMaxAttempts } from './retry-policy';
import { parseStatusCodeList } from './status-code';

const NO_CODES: ReadonlySet<never> = freezeSet(new Set<never>());

/**
 * Parse a `hedgingPolicy` (gRFC A6, "Validation of hedgingPolicy"): `maxAttempts` required integer
 * >= 2 (capped); `hedgingDelay` optional duration >= 0 (absent or `"0s"` sends every attempt at
 * once); `nonFatalStatusCodes` optional list of status codes (absent = none).
 * @param value the JSON value of the field.
 * @param path its JSON path, e.g. `methodConfig[0].hedgingPolicy`.
 * @param maxAttemptsCap the client-side cap on `maxAttempts`.
 * @returns a frozen policy; `hedgingDelayMs` in milliseconds.
 * @throws ConfigError naming the first invalid field and the rule broken.
 */
export function parseHedgingPolicy(value: unknown, path: string, maxAttemptsCap: number): HedgingPolicy {
  const json = expectObject(value, path);
  const maxAttempts = parseMaxAttempts(getField(json, 'maxAttempts'), fieldPath(path, 'maxAttempts'), maxAttemptsCap);
  const delayPath = fieldPath(path, 'hedgingDelay');
  const rawDelay = getField(json, 'hedgingDelay');
  const hedgingDelayMs = rawDelay === undefined ? 0 : parseDuration(rawDelay, delayPath);
  if (hedgingDelayMs < 0) throw new ConfigError(delayPath, 'must be a duration >= 0', rawDelay);
  const codesPath = fieldPath(path, 'nonFatalStatusCodes');
  const rawCodes = getField(json, 'nonFatalStatusCodes');
  const nonFatalStatusCodes = rawCodes === undefined ? NO_CODES : parseStatusCodeList(rawCodes, codesPath, false);
  return Object.freeze({ maxAttempts, hedgingDelayMs, nonFatalStatusCodes });
}
