import type { MethodConfig, ServiceConfig } from './types';

/**
 * How many distinct method paths one lookup remembers. A channel serves a fixed set of methods, so
 * this is never reached in practice; it bounds memory if callers invent method names.
 */
export const METHOD_LOOKUP_CACHE_LIMIT = 10_000;

/** Memoized "no config applies", so that a remembered miss also costs a single `get`. */
const NO_MATCH: unique symbol = Symbol('no method config');

/** Finds the method config for a full method path (`/pkg.Svc/Method`). */
export type MethodConfigLookup = (method: string) => MethodConfig | undefined;

/**
 * Build the per-call method config lookup of a parsed service config. Matching follows
 * `service_config.proto` (`MethodConfig.Name`): the most specific name wins, exact
 * `/service/method`, then the service default `/service/`, then the global default ``.
 *
 * Each distinct method path is resolved once (at most three map lookups) and memoized, so a call
 * costs one `Map` lookup and allocates nothing; past {@link METHOD_LOOKUP_CACHE_LIMIT} distinct
 * paths new ones are resolved each time without being stored.
 * @param config a config from `parseServiceConfig`.
 * @returns `(method) => MethodConfig | undefined`; `undefined` when no name matches.
 */
export function createMethodConfigLookup(config: ServiceConfig): MethodConfigLookup {
  const configs = config.methodConfigs;
  if (configs.size === 0) return () => undefined;
  const memo = new Map<string, MethodConfig | typeof NO_MATCH>();
  return (method) => {
    const hit = memo.get(method);
    if (hit !== undefined) return hit === NO_MATCH ? undefined : hit;
    const found = resolve(configs, method);
    if (memo.size < METHOD_LOOKUP_CACHE_LIMIT) memo.set(method, found ?? NO_MATCH);
    return found;
  };
}

function resolve(configs: ReadonlyMap<string, MethodConfig>, method: string): MethodConfig | undefined {
  const exact = configs.get(method);
  if (exact !== undefined) return exact;
  // `/pkg.Svc/Method` → `/pkg.Svc/`; a path without a service part only matches the default.
  const slash = method.lastIndexOf('/');
  if (slash > 0) {
    const service = configs.get(method.slice(0, slash + 1));
    if (service !== undefined) return service;
  }
  return configs.get('');
}

const lookups = new WeakMap<ServiceConfig, MethodConfigLookup>();

/**
 * The method config for `method` under `config`, through a lookup created on first use and kept
 * for as long as the config object lives (see {@link createMethodConfigLookup}). A call costs one
 * `WeakMap` and one `Map` lookup.
 * @param config a config from `parseServiceConfig`.
 * @param method the full method path, `/pkg.Svc/Method`.
 */
export function lookupMethodConfig(config: ServiceConfig, method: string): MethodConfig | undefined {
  let lookup = lookups.get(config);
  if (lookup === undefined) {
    lookup = createMethodConfigLookup(config);
    lookups.set(config, lookup);
  }
  return lookup(method);
}
