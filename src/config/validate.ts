import { ConfigError } from '../errors';
import { isJsonObject } from '../json/path';
import { parseServiceConfigWithWarnings } from './service-config';
import { serviceConfigWarnings } from './service-config-warnings';
import type { ServiceConfig } from './types';

/** One error or warning of {@link validateServiceConfig}. */
export interface ServiceConfigProblem {
  /** JSON path of the field, e.g. `methodConfig[1].retryPolicy.maxAttempts` (`serviceConfig` for the whole). */
  readonly path: string;
  /** The rule broken or the effect, e.g. `must be an integer >= 2, got 1`. */
  readonly message: string;
}

/** What {@link validateServiceConfig} found. */
export interface ServiceConfigValidation {
  /** No errors: a channel accepts this config (with `strict: true` only if there are no warnings too). */
  readonly valid: boolean;
  readonly errors: readonly ServiceConfigProblem[];
  /** Fields that change nothing (unknown, misspelt, unsupported, a method config naming no method). */
  readonly warnings: readonly ServiceConfigProblem[];
  /** The parsed config, when valid (internal form: durations in ms). */
  readonly config: ServiceConfig | undefined;
}

/**
 * Check a service config (`doc/service_config.md`) as a channel would, without a channel: the same
 * parser (gRFC A21: one invalid field rejects the whole config). Unlike the parser, which stops at the
 * first error, this reports the first error of every top-level section and of every `methodConfig`
 * entry, so one run shows every broken part.
 * @param input the config as a JS object or a JSON string.
 * @param options `maxAttemptsCap` as the channel option (default 5).
 * @throws nothing: problems are returned.
 */
export function validateServiceConfig(input: unknown, options: { readonly maxAttemptsCap?: number } = {}): ServiceConfigValidation {
  const parseOptions = { maxAttemptsCap: options.maxAttemptsCap ?? 5 };
  let json = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (error) {
      return invalid([{ path: 'serviceConfig', message: `is not valid JSON: ${(error as Error).message}` }]);
    }
  }
  const warnings = serviceConfigWarnings(json).map(({ path, rule }) => ({ path, message: rule }));
  try {
    const parsed = parseServiceConfigWithWarnings(json, parseOptions);
    return { valid: true, errors: [], warnings, config: parsed.config };
  } catch (error) {
    const whole = problem(error);
    if (!isJsonObject(json)) return { ...invalid([whole]), warnings };
    const errors: ServiceConfigProblem[] = [];
    const tryPart = (part: object, rewrite?: (path: string) => string): void => {
      try {
        parseServiceConfigWithWarnings(part, parseOptions);
      } catch (partError) {
        const found = problem(partError);
        errors.push(rewrite === undefined ? found : { path: rewrite(found.path), message: found.message });
      }
    };
    const { methodConfig, loadBalancingConfig, loadBalancingPolicy, ...rest } = json as Record<string, unknown>;
    tryPart({ loadBalancingConfig, loadBalancingPolicy });
    for (const [key, value] of Object.entries(rest)) tryPart({ [key]: value });
    if (Array.isArray(methodConfig)) {
      methodConfig.forEach((entry, i) => tryPart({ methodConfig: [entry] }, (path) => path.replace(/^methodConfig\[0\]/, `methodConfig[${i}]`)));
    } else if (methodConfig !== undefined) {
      tryPart({ methodConfig });
    }
    // Errors only the whole config has (a method name listed in two entries).
    return { ...invalid(errors.length > 0 ? errors : [whole]), warnings };
  }
}

function invalid(errors: ServiceConfigProblem[]): ServiceConfigValidation {
  return { valid: false, errors, warnings: [], config: undefined };
}

function problem(error: unknown): ServiceConfigProblem {
  if (error instanceof ConfigError) return { path: error.path, message: error.message.slice(error.path.length + 2) };
  return { path: 'serviceConfig', message: String((error as Error)?.message ?? error) };
}
