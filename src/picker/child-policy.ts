import { ConfigError } from '../errors';
import { expectArray, indexPath, isJsonObject } from '../json/path';
import { getLoadBalancingPolicyFactory, registeredPolicies } from './registry';
import type { LoadBalancingPolicyFactory } from './types';

/** A child policy chosen from a `loadBalancingConfig`-style list, with its parsed config. */
export interface ChildPolicyChoice {
  readonly factory: LoadBalancingPolicyFactory;
  readonly config: unknown;
}

/**
 * Select a parent policy's child from a list of single-key `{ "<policy name>": <config> }` objects,
 * with the rule gRFC A24 gives the top-level `loadBalancingConfig`: the first registered name wins and
 * its config must be valid (no fall-through to later entries); a list with no registered name is
 * invalid. Used for `outlier_detection`'s `childPolicy` (gRFC A50). Policies look the registry up here,
 * never through `src/config`.
 * @param value the list's JSON value.
 * @param path its JSON path, e.g. `loadBalancingConfig[0].outlier_detection.childPolicy`.
 * @throws ConfigError for a malformed entry, no registered entry, or the chosen policy's invalid config.
 */
export function selectChildPolicy(value: unknown, path: string): ChildPolicyChoice {
  const list = expectArray(value, path);
  const unsupported: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const entryPath = indexPath(path, i);
    const entry = list[i];
    const keys = isJsonObject(entry) ? Object.keys(entry) : [];
    if (keys.length !== 1) throw new ConfigError(entryPath, 'must be an object with exactly one key, the policy name', entry);
    const name = keys[0] as string;
    const factory = getLoadBalancingPolicyFactory(name);
    if (factory === undefined) {
      unsupported.push(JSON.stringify(name));
      continue;
    }
    const configPath = `${entryPath}.${name}`;
    const json = (entry as Record<string, unknown>)[name];
    try {
      return Object.freeze({ factory, config: factory.parseConfig(json, configPath) });
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(configPath, `is invalid: ${error instanceof Error ? error.message : String(error)}`, json);
    }
  }
  const what = unsupported.length === 0 ? 'the list is empty' : `${unsupported.join(', ')} ${unsupported.length === 1 ? 'is' : 'are'} not registered`;
  throw new ConfigError(path, `no supported policy: ${what} (registered: ${registeredPolicies().join(', ') || 'none'})`);
}
