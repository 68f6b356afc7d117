import { ConfigError } from '../errors';
import { getLoadBalancingPolicyFactory, registeredPolicies } from '../picker/registry';
import type { LoadBalancingPolicyFactory } from '../picker/types';
import type { LoadBalancingChoice } from './types';
import { expectArray, expectString, indexPath, isJsonObject } from '../json/path';

/**
 * Select the load-balancing policy from `loadBalancingConfig` (gRFC A24): a list of single-key
 * objects `{ "<policy name>": <policy config> }`, scanned in order; the first entry whose name is
 * registered is used. Its config goes through the factory's `parseConfig`, and if that fails the
 * whole service config is invalid (no fall-through to later entries). Entries after the chosen one
 * are not examined. If no entry is registered, the config is invalid ("If none are supported, the
 * service config is considered invalid").
 * @param value the JSON value of `loadBalancingConfig`.
 * @param path its JSON path (`loadBalancingConfig`).
 * @returns the frozen choice; `config` is whatever the factory returned.
 * @throws ConfigError for a malformed entry, no registered entry, or an invalid policy config.
 */
export function parseLoadBalancingConfig(value: unknown, path: string): LoadBalancingChoice {
  const list = expectArray(value, path);
  const unsupported: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const entryPath = indexPath(path, i);
    const entry = list[i];
    const keys = isJsonObject(entry) ? Object.keys(entry) : [];
    if (keys.length !== 1) {
      throw new ConfigError(entryPath, 'must be an object with exactly one key, the policy name', entry);
    }
    const name = keys[0]!;
    const factory = getLoadBalancingPolicyFactory(name);
    if (factory === undefined) {
      unsupported.push(JSON.stringify(name));
      continue;
    }
    return choose(factory, (entry as Record<string, unknown>)[name], `${entryPath}.${name}`);
  }
  const what =
    unsupported.length === 0
      ? 'the list is empty'
      : `${unsupported.join(', ')} ${unsupported.length === 1 ? 'is' : 'are'} not registered`;
  throw new ConfigError(path, `no supported policy: ${what} (registered: ${registeredList()})`);
}

/**
 * Select the policy named by the deprecated `loadBalancingPolicy` field (`doc/service_config.md`),
 * case-insensitively (`"ROUND_ROBIN"` is `round_robin`), with the policy's default config (the
 * factory parses `{}`). gRPC core treats an empty name as unset.
 * @param value the JSON value of `loadBalancingPolicy`.
 * @param path its JSON path (`loadBalancingPolicy`).
 * @returns the frozen choice, or `undefined` for `""`.
 * @throws ConfigError for a non-string, an unregistered name, or a factory rejecting `{}`.
 */
export function parseLoadBalancingPolicyName(value: unknown, path: string): LoadBalancingChoice | undefined {
  const name = expectString(value, path);
  if (name === '') return undefined;
  const factory = getLoadBalancingPolicyFactory(name.toLowerCase());
  if (factory === undefined) {
    throw new ConfigError(path, `unknown policy (registered: ${registeredList()})`, value);
  }
  return choose(factory, {}, path);
}

function choose(factory: LoadBalancingPolicyFactory, json: unknown, path: string): LoadBalancingChoice {
  let config: unknown;
  try {
    config = factory.parseConfig(json, path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // A policy's parser must only throw ConfigError; anything else still means "invalid config".
    throw new ConfigError(path, `is invalid: ${error instanceof Error ? error.message : String(error)}`, json);
  }
  return Object.freeze({ factory, config });
}

function registeredList(): string {
  const names = registeredPolicies();
  return names.length === 0 ? 'none' : names.join(', ');
}
