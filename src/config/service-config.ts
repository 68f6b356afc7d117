import { ConfigError } from '../errors';
import type { LoadBalancingChoice, MethodConfig, ServiceConfig } from './types';
import { freezeMap } from './freeze';
import { expectArray, expectObject, expectString, fieldPath, getField, indexPath, type JsonObject } from '../json/path';
import { parseLoadBalancingConfig, parseLoadBalancingPolicyName } from './load-balancing-config';
import { parseMethodConfig } from './method-config';
import { parseMethodNames } from './method-name';
import { parseRetryThrottling } from './retry-throttling';
import { serviceConfigWarnings, type ConfigWarning } from './service-config-warnings';

/** Options of {@link parseServiceConfig}. */
export interface ParseServiceConfigOptions {
  /**
   * Client-side cap on `maxAttempts` of retry and hedging policies (gRFC A6, "Limits on Retries and
   * Hedges": 5 by default, raisable by the client). Expected to be an integer >= 2.
   */
  readonly maxAttemptsCap: number;
  /**
   * Reject what would otherwise only be a warning (see {@link serviceConfigWarnings}: unknown fields,
   * a method config naming no method, a name no method can match) with a `ConfigError` for the first
   * one. Default false: gRPC ignores unknown fields for forward compatibility.
   */
  readonly strict?: boolean;
}

/** A parsed service config and what in it has no effect. */
export interface ParsedServiceConfig {
  readonly config: ServiceConfig;
  /** Empty when everything in the input is used; never non-empty with `strict`. */
  readonly warnings: readonly ConfigWarning[];
}

/**
 * Parse and validate a gRPC service config (`doc/service_config.md`, `grpc/service_config/
 * service_config.proto`), the JSON grpc-go, grpc-java and grpc-js accept.
 *
 * Per gRFC A21 an invalid value anywhere in a known field rejects the whole config (the caller keeps
 * its previous good one); unknown fields are ignored; `null` means "not set". Reads:
 * `loadBalancingConfig` (gRFC A24; wins over the deprecated `loadBalancingPolicy`), `methodConfig`,
 * `retryThrottling` (gRFC A6) and `healthCheckConfig.serviceName` (gRFC A17). The policy chosen by
 * `loadBalancingConfig` is looked up in the registry (`registerLoadBalancingPolicy`) at parse time.
 *
 * Parsing happens once per config update, never per call: look method configs up with
 * `createMethodConfigLookup` / `lookupMethodConfig`.
 * @param input a JS object or a JSON string.
 * @param options see {@link ParseServiceConfigOptions}.
 * @returns a deeply frozen config (durations in ms, sizes in bytes, status lists as read-only sets;
 *   the load-balancing `config` is as returned by the policy's `parseConfig`).
 * @throws ConfigError for the first violation, with its exact JSON path, e.g.
 *   `methodConfig[1].retryPolicy.maxAttempts: must be an integer >= 2, got 1`; unparseable JSON
 *   gives `serviceConfig: is not valid JSON: ...`.
 */
export function parseServiceConfig(input: unknown, options: ParseServiceConfigOptions): ServiceConfig {
  return parseServiceConfigWithWarnings(input, options).config;
}

/**
 * {@link parseServiceConfig}, and the warnings for what in the input has no effect (see
 * {@link serviceConfigWarnings}), each with its JSON path, for the channel to report (e.g. as
 * `warning` events and in its debug log) or, with `strict`, to reject.
 * @throws ConfigError as {@link parseServiceConfig}; with `options.strict`, also for the first warning
 *   (`<path>: <rule>`), after every validity check passed.
 */
export function parseServiceConfigWithWarnings(input: unknown, options: ParseServiceConfigOptions): ParsedServiceConfig {
  const json = toObject(input);
  const config: ServiceConfig = Object.freeze({
    loadBalancing: parseLoadBalancing(json),
    methodConfigs: parseMethodConfigs(getField(json, 'methodConfig'), 'methodConfig', options.maxAttemptsCap),
    retryThrottling: optional(getField(json, 'retryThrottling'), (v) => parseRetryThrottling(v, 'retryThrottling')),
    healthCheckServiceName: optional(getField(json, 'healthCheckConfig'), parseHealthCheckServiceName),
  });
  const warnings = Object.freeze(serviceConfigWarnings(json));
  const first = warnings[0];
  if (options.strict && first !== undefined) throw new ConfigError(first.path, `${first.rule} (strict)`);
  return Object.freeze({ config, warnings });
}

function toObject(input: unknown): JsonObject {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new ConfigError('serviceConfig', `is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('serviceConfig', 'must be a JSON object', value);
  }
  return value as JsonObject;
}

function optional<T>(value: unknown, parse: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

function parseLoadBalancing(json: JsonObject): LoadBalancingChoice | undefined {
  const list = getField(json, 'loadBalancingConfig');
  const name = getField(json, 'loadBalancingPolicy');
  // The deprecated field is type-checked even when loadBalancingConfig overrides it (A21: a known
  // field with a wrong type is an error), but only resolved when it is the one in effect.
  if (name !== undefined) expectString(name, 'loadBalancingPolicy');
  if (list !== undefined) return parseLoadBalancingConfig(list, 'loadBalancingConfig');
  return name === undefined ? undefined : parseLoadBalancingPolicyName(name, 'loadBalancingPolicy');
}

/**
 * Build the key → method config map. Every name may appear once in the whole config
 * (`service_config.proto`: "Each name entry must be unique across the entire ServiceConfig").
 */
function parseMethodConfigs(value: unknown, path: string, maxAttemptsCap: number): ReadonlyMap<string, MethodConfig> {
  const byKey = new Map<string, MethodConfig>();
  const seenAt = new Map<string, string>();
  if (value !== undefined) {
    const list = expectArray(value, path);
    for (let i = 0; i < list.length; i++) {
      const entryPath = indexPath(path, i);
      const entry = expectObject(list[i], entryPath);
      const names = parseMethodNames(getField(entry, 'name'), fieldPath(entryPath, 'name'));
      const config = parseMethodConfig(entry, entryPath, maxAttemptsCap);
      for (const name of names) {
        const previous = seenAt.get(name.key);
        if (previous !== undefined) {
          throw new ConfigError(name.path, `duplicate method name ${describeKey(name.key)}, already at ${previous}`);
        }
        seenAt.set(name.key, name.path);
        byKey.set(name.key, config);
      }
    }
  }
  return freezeMap(byKey);
}

function describeKey(key: string): string {
  if (key === '') return '{} (the default)';
  const slash = key.indexOf('/', 1);
  const service = JSON.stringify(key.slice(1, slash));
  const method = key.slice(slash + 1);
  return method === '' ? `{service: ${service}}` : `{service: ${service}, method: ${JSON.stringify(method)}}`;
}

/** gRFC A17: `healthCheckConfig: { serviceName: string }`; an absent name means "no health checking". */
function parseHealthCheckServiceName(value: unknown): string | undefined {
  const json = expectObject(value, 'healthCheckConfig');
  const name = getField(json, 'serviceName');
  return name === undefined ? undefined : expectString(name, 'healthCheckConfig.serviceName');
}
