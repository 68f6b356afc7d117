import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_DURATION_SECONDS } from '../../../src/json/duration';
import { parseServiceConfig } from '../../../src/config/service-config';
import { serviceConfigToJson } from '../../../src/config/service-config-json';
import { STATUS_CODE_NAMES } from '../../../src/config/status-code';
import type { ServiceConfig } from '../../../src/config/types';
import { ConfigError } from '../../../src/errors';
import { registerLoadBalancingPolicy } from '../../../src/picker/registry';
import type { LoadBalancingPolicyFactory } from '../../../src/picker/types';

/** A stand-in policy whose config is any object, parsed to a plain copy (so it round-trips). */
function fakePolicy(name: string): LoadBalancingPolicyFactory {
  return {
    name,
    parseConfig(json, path) {
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw new ConfigError(path, 'must be an object', json);
      }
      return JSON.parse(JSON.stringify(json)) as unknown;
    },
    create() {
      throw new Error('not used by these tests');
    },
  };
}

beforeAll(() => {
  registerLoadBalancingPolicy(fakePolicy('pick_first'));
  registerLoadBalancingPolicy(fakePolicy('round_robin'));
});

const OPTIONS = { maxAttemptsCap: 5 };

/** parseServiceConfig, where the only acceptable failure is a ConfigError. */
function parseOrConfigError(input: unknown): ServiceConfig | ConfigError {
  try {
    return parseServiceConfig(input, OPTIONS);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

// ---- valid building blocks -------------------------------------------------------------------

const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
const serviceName = fc.tuple(identifier, identifier).map(([pkg, svc]) => `${pkg}.${svc}`);

/** A valid duration, as a string or an object; `positive` excludes zero. */
function duration(positive: boolean): fc.Arbitrary<unknown> {
  const parts = fc
    .tuple(fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: MAX_DURATION_SECONDS })), fc.integer({ min: 0, max: 999_999_999 }))
    .filter(([s, n]) => !positive || s > 0 || n > 0);
  const asString = fc.tuple(parts, fc.integer({ min: 0, max: 9 })).map(([[s, n], digits]) => {
    if (digits === 0) return n === 0 ? `${s}s` : `${s}.${String(n).padStart(9, '0')}s`;
    const fraction = String(n).padStart(9, '0');
    // Keep every non-zero digit: cut only trailing zeros, never below `digits`.
    const trimmed = fraction.replace(/0+$/, '');
    return `${s}.${trimmed.length > digits ? trimmed : fraction.slice(0, digits)}s`;
  });
  const asObject = parts.map(([seconds, nanos]) => ({ seconds: String(seconds), nanos }));
  return fc.oneof(asString, asObject);
}

const statusCode = fc.tuple(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 3 })).map(([code, form]) => {
  const name = STATUS_CODE_NAMES[code]!;
  return [code, name, name.toLowerCase(), name[0] + name.slice(1).toLowerCase()][form];
});

const maxAttempts = fc.oneof(fc.integer({ min: 2, max: 10 }), fc.integer({ min: 2, max: 10 }).map(String));

const retryPolicy = fc.record({
  maxAttempts,
  initialBackoff: duration(true),
  maxBackoff: duration(true),
  backoffMultiplier: fc.double({ min: 0.001, max: 100, noNaN: true }),
  retryableStatusCodes: fc.array(statusCode, { minLength: 1, maxLength: 5 }),
});

const hedgingPolicy = fc.record(
  {
    maxAttempts,
    hedgingDelay: duration(false),
    nonFatalStatusCodes: fc.array(statusCode, { maxLength: 5 }),
  },
  { requiredKeys: ['maxAttempts'] },
);

const methodSettings = fc
  .record(
    {
      timeout: duration(false),
      waitForReady: fc.boolean(),
      maxRequestMessageBytes: fc.oneof(fc.nat(), fc.nat().map(String)),
      maxResponseMessageBytes: fc.integer({ min: 0, max: 4_294_967_295 }),
      policy: fc.oneof(retryPolicy.map((p) => ({ retryPolicy: p })), hedgingPolicy.map((p) => ({ hedgingPolicy: p }))),
    },
    { requiredKeys: [] },
  )
  .map(({ policy, ...rest }) => ({ ...rest, ...policy }));

const methodName = fc.oneof(
  fc.constant({}),
  fc.constant({ service: '' }),
  serviceName.map((service) => ({ service })),
  fc.tuple(serviceName, identifier).map(([service, method]) => ({ service, method })),
);
function nameKey(name: { service?: string; method?: string }): string {
  return name.service ? `/${name.service}/${name.method ?? ''}` : '';
}

/** A list of method configs whose names are unique across the whole list. */
const methodConfigs = fc
  .tuple(fc.uniqueArray(methodName, { selector: nameKey, maxLength: 8 }), fc.array(methodSettings, { minLength: 1, maxLength: 4 }))
  .map(([names, settings]) =>
    settings.map((setting, i) => ({ name: names.filter((_, j) => j % settings.length === i), ...setting })),
  );

const loadBalancing = fc.oneof(
  fc.constant({}),
  fc
    .tuple(fc.array(fc.constantFrom('grpclb', 'xds_experimental', 'weighted_target'), { maxLength: 2 }), fc.constantFrom('pick_first', 'round_robin'), fc.dictionary(identifier, fc.jsonValue(), { maxKeys: 3 }))
    .map(([unknown, name, config]) => ({ loadBalancingConfig: [...unknown.map((u) => ({ [u]: {} })), { [name]: config }] })),
  fc.constantFrom('round_robin', 'PICK_FIRST', 'Round_Robin').map((name) => ({ loadBalancingPolicy: name })),
);

const validConfig = fc
  .record(
    {
      lb: loadBalancing,
      methodConfig: methodConfigs,
      retryThrottling: fc.record({
        maxTokens: fc.integer({ min: 1, max: 1000 }),
        tokenRatio: fc.oneof(fc.double({ min: 0.001, max: 1000, noNaN: true }), fc.integer({ min: 1, max: 9999 }).map((m) => `${m / 1000}`)),
      }),
      healthCheckConfig: fc.record({ serviceName: fc.string() }),
      unknownField: fc.jsonValue(),
    },
    { requiredKeys: ['lb'] },
  )
  .map(({ lb, ...rest }) => ({ ...lb, ...rest }));

// ---- near-valid: a valid config with one node replaced or removed ------------------------------

type Json = unknown;
function paths(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}
function replaceAt(value: Json, path: Array<string | number>, replacement: Json | typeof REMOVE): Json {
  if (path.length === 0) return replacement === REMOVE ? undefined : replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && replacement === REMOVE) copy.splice(head as number, 1);
    else copy[head as number] = replaceAt(copy[head as number], rest, replacement);
    return copy;
  }
  const copy = { ...(value as Record<string, Json>) };
  if (rest.length === 0 && replacement === REMOVE) delete copy[head as string];
  else copy[head as string] = replaceAt(copy[head as string], rest, replacement);
  return copy;
}
const REMOVE = Symbol('remove');

const nearValidConfig = fc
  .tuple(
    validConfig,
    fc.nat(),
    fc.oneof(
      fc.constant<typeof REMOVE>(REMOVE),
      fc.jsonValue(),
      fc.constantFrom(0, 1, -1, 1.5, '', '0s', '-1s', '1.5', 'UNAVAILABLE', 17, null, [], {}, true, 4_294_967_296),
    ),
  )
  .map(([config, pick, replacement]) => {
    const all = paths(config);
    return replaceAt(config, all[pick % all.length]!, replacement);
  });

// ---- properties ------------------------------------------------------------------------------

describe('parseServiceConfig properties', () => {
  it('returns or throws ConfigError for any JSON value, as an object or as JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        parseOrConfigError(value);
        parseOrConfigError(JSON.stringify(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('returns or throws ConfigError for any string', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        parseOrConfigError(text);
      }),
    );
  });

  it('returns or throws ConfigError for near-valid configs', () => {
    fc.assert(
      fc.property(nearValidConfig, (config) => {
        parseOrConfigError(config);
        parseOrConfigError(JSON.stringify(config));
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts every generated valid config, and it round-trips through canonical JSON', () => {
    fc.assert(
      fc.property(validConfig, (input) => {
        const parsed = parseServiceConfig(input, OPTIONS);
        expect(parseServiceConfig(JSON.stringify(input), OPTIONS)).toEqual(parsed);
        const canonical = JSON.stringify(serviceConfigToJson(parsed));
        const reparsed = parseServiceConfig(canonical, OPTIONS);
        expect(reparsed).toEqual(parsed);
        // Canonical form is a fixed point.
        expect(JSON.stringify(serviceConfigToJson(reparsed))).toBe(canonical);
      }),
      { numRuns: 500 },
    );
  });
});
