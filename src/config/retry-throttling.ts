import { ConfigError } from '../errors';
import type { RetryThrottlingConfig } from './types';
import { expectObject, fieldPath, getField } from '../json/path';
import { readJsonNumber } from '../json/number';

const MAX_TOKENS_LIMIT = 1000;

/**
 * Parse `retryThrottling` (gRFC A6, "Validation of retryThrottling"): `maxTokens` "MUST be a JSON
 * integer value in the range (0, 1000]"; `tokenRatio` "MUST be a JSON floating point greater than
 * 0. Decimal places beyond 3 are ignored (eg. 0.5466 is treated as 0.546)". Both are required and
 * may arrive as numbers or numeric strings (proto3 JSON). A ratio below 0.001 truncates to 0 and is
 * rejected, as gRPC core does.
 * @param value the JSON value of the field.
 * @param path its JSON path (`retryThrottling`).
 * @returns frozen parameters; `tokenRatio` truncated to 3 decimal places.
 * @throws ConfigError naming the invalid field and the rule broken.
 */
export function parseRetryThrottling(value: unknown, path: string): RetryThrottlingConfig {
  const json = expectObject(value, path);
  const tokensPath = fieldPath(path, 'maxTokens');
  const rawTokens = getField(json, 'maxTokens');
  if (rawTokens === undefined) throw new ConfigError(tokensPath, 'is required');
  const maxTokens = readJsonNumber(rawTokens);
  if (maxTokens === undefined || !Number.isInteger(maxTokens) || maxTokens <= 0 || maxTokens > MAX_TOKENS_LIMIT) {
    throw new ConfigError(tokensPath, `must be an integer in (0, ${MAX_TOKENS_LIMIT}]`, rawTokens);
  }
  const ratioPath = fieldPath(path, 'tokenRatio');
  const rawRatio = getField(json, 'tokenRatio');
  if (rawRatio === undefined) throw new ConfigError(ratioPath, 'is required');
  const ratio = readJsonNumber(rawRatio);
  if (ratio === undefined || ratio <= 0) throw new ConfigError(ratioPath, 'must be a number > 0', rawRatio);
  const tokenRatio = truncateToMillis(ratio);
  if (tokenRatio === 0) {
    throw new ConfigError(ratioPath, 'must be >= 0.001 (decimal places beyond 3 are ignored)', rawRatio);
  }
  return Object.freeze({ maxTokens, tokenRatio });
}

/**
 * Drop decimal places beyond the third, working on the shortest decimal spelling of the number so
 * that binary rounding cannot turn 0.291 into 0.290.
 */
function truncateToMillis(x: number): number {
  const text = String(x);
  if (text.includes('e')) return x < 1 ? 0 : x; // < 1e-6 or >= 1e21 (an integer)
  const dot = text.indexOf('.');
  if (dot < 0) return x;
  return Number(text.slice(0, dot + 4));
}
