import type { status } from '@grpc/grpc-js';
import type { MethodConfig, ServiceConfig } from './types';
import { formatDuration } from '../json/duration';
import { STATUS_CODE_NAMES } from './status-code';

/**
 * The canonical JSON form of a parsed service config (`doc/service_config.md` field names,
 * durations as proto3 strings, status codes as upper-case names), for logs and debugging, and such
 * that `parseServiceConfig(serviceConfigToJson(c))` yields an equal config.
 *
 * Method configs that shared one `methodConfig` entry come out as one entry again. The
 * load-balancing policy is written as `loadBalancingConfig: [{ <name>: <parsed config> }]`, which
 * round-trips only if the policy's parsed config is itself valid JSON input for the policy.
 * `maxAttempts` is written already capped.
 * @param config a config from `parseServiceConfig`.
 * @returns a fresh plain JSON object (safe to `JSON.stringify`).
 */
export function serviceConfigToJson(config: ServiceConfig): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  if (config.loadBalancing !== undefined) {
    json.loadBalancingConfig = [{ [config.loadBalancing.factory.name]: config.loadBalancing.config }];
  }
  const names = new Map<MethodConfig, Array<Record<string, string>>>();
  for (const [key, method] of config.methodConfigs) {
    let list = names.get(method);
    if (list === undefined) names.set(method, (list = []));
    list.push(keyToName(key));
  }
  if (names.size > 0) json.methodConfig = [...names].map(([method, name]) => methodConfigToJson(method, name));
  if (config.retryThrottling !== undefined) {
    const { maxTokens, tokenRatio } = config.retryThrottling;
    json.retryThrottling = { maxTokens, tokenRatio };
  }
  if (config.healthCheckServiceName !== undefined) {
    json.healthCheckConfig = { serviceName: config.healthCheckServiceName };
  }
  return json;
}

function keyToName(key: string): Record<string, string> {
  if (key === '') return {};
  const slash = key.indexOf('/', 1);
  const method = key.slice(slash + 1);
  const service = key.slice(1, slash);
  return method === '' ? { service } : { service, method };
}

function methodConfigToJson(config: MethodConfig, name: Array<Record<string, string>>): Record<string, unknown> {
  const json: Record<string, unknown> = { name };
  if (config.timeoutMs !== undefined) json.timeout = formatDuration(config.timeoutMs);
  if (config.waitForReady !== undefined) json.waitForReady = config.waitForReady;
  if (config.maxRequestMessageBytes !== undefined) json.maxRequestMessageBytes = config.maxRequestMessageBytes;
  if (config.maxResponseMessageBytes !== undefined) json.maxResponseMessageBytes = config.maxResponseMessageBytes;
  const retry = config.retryPolicy;
  if (retry !== undefined) {
    json.retryPolicy = {
      maxAttempts: retry.maxAttempts,
      initialBackoff: formatDuration(retry.initialBackoffMs),
      maxBackoff: formatDuration(retry.maxBackoffMs),
      backoffMultiplier: retry.backoffMultiplier,
      retryableStatusCodes: codeNames(retry.retryableStatusCodes),
    };
  }
  const hedging = config.hedgingPolicy;
  if (hedging !== undefined) {
    json.hedgingPolicy = {
      maxAttempts: hedging.maxAttempts,
      hedgingDelay: formatDuration(hedging.hedgingDelayMs),
      nonFatalStatusCodes: codeNames(hedging.nonFatalStatusCodes),
    };
  }
  return json;
}

function codeNames(codes: ReadonlySet<status>): string[] {
  return [...codes].sort((a, b) => a - b).map((code) => STATUS_CODE_NAMES[code]!);
}
