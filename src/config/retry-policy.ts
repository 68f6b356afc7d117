import { ConfigError } from '../errors';
import type { RetryPolicy } from './types';
import { parseDuration } from '../json/duration';
import { expectObject, fieldPath, getField } from '../json/path';
import { readJsonNumber } from '../json/number';
import { parseStatusCodeList } from './status-code';

/**
 * Parse `maxAttempts` of a retry or hedging policy (gRFC A6: "MUST be specified and MUST be a JSON
 * integer value greater than 1. Values greater than 5 are treated as 5 without being considered a
 * validation error"; the cap is a client setting). Accepts a number or a numeric string (proto3
 * `uint32`).
 * @param value the raw field value (`undefined` when absent).
 * @param path the JSON path of the field.
 * @param cap the client-side cap (channel option `maxAttemptsCap`, default 5; expected >= 2).
 * @returns `min(value, cap)`.
 * @throws ConfigError `<path>: is required` or `<path>: must be an integer >= 2`.
 */
export function parseMaxAttempts(value: unknown, path: string, cap: number): number {
  if (value === undefined) throw new ConfigError(path, 'is required');
  const n = readJsonNumber(value);
  if (n === undefined || !Number.isInteger(n) || n < 2) throw new ConfigError(path, 'must be an integer >= 2', value);
  return Math.min(n, cap);
}

/**
 * Parse a `retryPolicy` (gRFC A6, "Validation of retryPolicy"). Every field is required:
 * `maxAttempts` integer >= 2 (capped), `initialBackoff` and `maxBackoff` durations > 0,
 * `backoffMultiplier` number > 0, `retryableStatusCodes` a non-empty list of status codes.
 * Unknown fields (e.g. the experimental `perAttemptRecvTimeout`) are ignored.
 * @param value the JSON value of the field.
 * @param path its JSON path, e.g. `methodConfig[1].retryPolicy`.
 * @param maxAttemptsCap the client-side cap on `maxAttempts`.
 * @returns a frozen policy; backoffs in milliseconds.
 * @throws ConfigError naming the first invalid field and the rule broken.
 */
export function parseRetryPolicy(value: unknown, path: string, maxAttemptsCap: number): RetryPolicy {
  const json = expectObject(value, path);
  const maxAttempts = parseMaxAttempts(getField(json, 'maxAttempts'), fieldPath(path, 'maxAttempts'), maxAttemptsCap);
  const initialBackoffMs = parsePositiveDuration(getField(json, 'initialBackoff'), fieldPath(path, 'initialBackoff'));
  const maxBackoffMs = parsePositiveDuration(getField(json, 'maxBackoff'), fieldPath(path, 'maxBackoff'));
  const multiplierPath = fieldPath(path, 'backoffMultiplier');
  const rawMultiplier = getField(json, 'backoffMultiplier');
  if (rawMultiplier === undefined) throw new ConfigError(multiplierPath, 'is required');
  const backoffMultiplier = readJsonNumber(rawMultiplier);
  if (backoffMultiplier === undefined || backoffMultiplier <= 0) {
    throw new ConfigError(multiplierPath, 'must be a number > 0', rawMultiplier);
  }
  const codesPath = fieldPath(path, 'retryableStatusCodes');
  const rawCodes = getField(json, 'retryableStatusCodes');
  if (rawCodes === undefined) throw new ConfigError(codesPath, 'is required');
  const retryableStatusCodes = parseStatusCodeList(rawCodes, codesPath, true);
  return Object.freeze({ maxAttempts, initialBackoffMs, maxBackoffMs, backoffMultiplier, retryableStatusCodes });
}

function parsePositiveDuration(value: unknown, path: string): number {
  if (value === undefined) throw new ConfigError(path, 'is required');
  const ms = parseDuration(value, path);
  if (ms <= 0) throw new ConfigError(path, 'must be a duration > 0', value);
  return ms;
}
