import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { parseServiceConfig } from '../../../src/config/service-config';
import type { MethodConfig } from '../../../src/config/types';
import { ConfigError } from '../../../src/errors';

const OPTIONS = { maxAttemptsCap: 5 };

function parse(input: unknown, cap = 5) {
  return parseServiceConfig(input, { maxAttemptsCap: cap });
}

function configError(input: unknown): ConfigError {
  try {
    parse(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const RETRY = {
  maxAttempts: 3,
  initialBackoff: '0.1s',
  maxBackoff: '1s',
  backoffMultiplier: 2,
  retryableStatusCodes: ['UNAVAILABLE'],
};
const HEDGING = { maxAttempts: 3, hedgingDelay: '0.5s', nonFatalStatusCodes: ['UNAVAILABLE', 13] };

/** A config whose single method config (for every method) has `fields`. */
function withMethod(fields: Record<string, unknown>): unknown {
  return { methodConfig: [{ name: [{}], ...fields }] };
}
function withRetry(fields: Record<string, unknown>): unknown {
  return withMethod({ retryPolicy: { ...RETRY, ...fields } });
}
function withHedging(fields: Record<string, unknown>): unknown {
  return withMethod({ hedgingPolicy: { ...HEDGING, ...fields } });
}
function withThrottling(fields: Record<string, unknown>): unknown {
  return { retryThrottling: { maxTokens: 10, tokenRatio: 0.1, ...fields } };
}
function only(config: ReturnType<typeof parse>): MethodConfig {
  const method = config.methodConfigs.get('');
  expect(method).toBeDefined();
  return method!;
}
function omit(base: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...base };
  delete copy[key];
  return copy;
}

describe('parseServiceConfig: top level', () => {
  it('parses an empty config to defaults', () => {
    const config = parse({});
    expect(config.loadBalancing).toBeUndefined();
    expect(config.methodConfigs.size).toBe(0);
    expect(config.retryThrottling).toBeUndefined();
    expect(config.healthCheckServiceName).toBeUndefined();
  });

  it.each([[5], [[]], [null], [undefined], [true], ['[1]'], ['"text"'], ['null'], ['42']])(
    'rejects the non-object %j',
    (input) => {
      const error = configError(input);
      expect(error.path).toBe('serviceConfig');
      expect(error.rule).toBe('must be a JSON object');
    },
  );

  it('rejects unparseable JSON text', () => {
    const error = configError('{"methodConfig": [');
    expect(error.path).toBe('serviceConfig');
    expect(error.rule).toMatch(/^is not valid JSON: /);
    expect(error.message).toMatch(/^serviceConfig: is not valid JSON: /);
  });

  it('gives the same result for a JSON string and the object', () => {
    const object = {
      methodConfig: [{ name: [{ service: 'pkg.Svc' }], timeout: '2s', retryPolicy: RETRY }],
      retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
      healthCheckConfig: { serviceName: 'health' },
    };
    expect(parse(JSON.stringify(object))).toEqual(parse(object));
  });

  it('ignores unknown fields at every level', () => {
    const config = parse({
      futureField: { anything: [1, 2] },
      methodConfig: [
        {
          name: [{ service: 's', extra: 1 }],
          somethingNew: true,
          retryPolicy: { ...RETRY, perAttemptRecvTimeout: '1s', whatever: 'x' },
        },
      ],
      retryThrottling: { maxTokens: 10, tokenRatio: 0.1, extra: null },
      healthCheckConfig: { serviceName: 'h', extra: 1 },
    });
    expect(config.methodConfigs.get('/s/')?.retryPolicy?.maxAttempts).toBe(3);
  });

  it('reads null as "not set" (proto3 JSON)', () => {
    const config = parse({
      loadBalancingConfig: null,
      loadBalancingPolicy: null,
      methodConfig: [{ name: [{ service: 's', method: null }], timeout: null, retryPolicy: null, hedgingPolicy: null }],
      retryThrottling: null,
      healthCheckConfig: null,
    });
    expect(config.loadBalancing).toBeUndefined();
    expect(config.methodConfigs.get('/s/')).toEqual({});
    expect(config.retryThrottling).toBeUndefined();
    expect(config.healthCheckServiceName).toBeUndefined();
  });

  it('never reads inherited properties as fields', () => {
    const config = parse(JSON.parse('{"__proto__": {"retryThrottling": 5}, "constructor": 1}'));
    expect(config.retryThrottling).toBeUndefined();
  });

  it('is deeply frozen', () => {
    const config = parse(withMethod({ retryPolicy: RETRY }));
    expect(Object.isFrozen(config)).toBe(true);
    const method = only(config);
    expect(Object.isFrozen(method)).toBe(true);
    expect(Object.isFrozen(method.retryPolicy)).toBe(true);
    expect(() => (config.methodConfigs as Map<string, MethodConfig>).set('/x/', {})).toThrow(TypeError);
    expect(() => (config.methodConfigs as Map<string, MethodConfig>).delete('')).toThrow(TypeError);
    expect(() => (method.retryPolicy!.retryableStatusCodes as Set<status>).add(status.OK)).toThrow(TypeError);
    const hedged = only(parse(withMethod({ hedgingPolicy: { maxAttempts: 2 } })));
    expect(() => (hedged.hedgingPolicy!.nonFatalStatusCodes as Set<status>).add(status.OK)).toThrow(TypeError);
  });
});

describe('parseServiceConfig: methodConfig and names', () => {
  it('keys names as /service/method, /service/ and the default', () => {
    const config = parse({
      methodConfig: [
        { name: [{ service: 'pkg.Svc', method: 'Get' }, { service: 'pkg.Other' }], timeout: '1s' },
        { name: [{}], waitForReady: true },
        { name: [{ service: 'pkg.Svc', method: '' }], timeout: '3s' },
      ],
    });
    expect([...config.methodConfigs.keys()].sort()).toEqual(['', '/pkg.Other/', '/pkg.Svc/', '/pkg.Svc/Get']);
    expect(config.methodConfigs.get('/pkg.Svc/Get')).toBe(config.methodConfigs.get('/pkg.Other/'));
    expect(config.methodConfigs.get('/pkg.Svc/Get')).toEqual({ timeoutMs: 1000 });
    expect(config.methodConfigs.get('')).toEqual({ waitForReady: true });
    expect(config.methodConfigs.get('/pkg.Svc/')).toEqual({ timeoutMs: 3000 });
  });

  it('treats {service: ""} as the global default', () => {
    expect(parse({ methodConfig: [{ name: [{ service: '' }], timeout: '1s' }] }).methodConfigs.get('')).toEqual({
      timeoutMs: 1000,
    });
  });

  it('skips a method config without names, but still validates it', () => {
    expect(parse({ methodConfig: [{ timeout: '1s' }, { name: [], timeout: '2s' }] }).methodConfigs.size).toBe(0);
    expect(configError({ methodConfig: [{ name: [], timeout: 'soon' }] }).path).toBe('methodConfig[0].timeout');
  });

  it.each([
    [{ methodConfig: {} }, 'methodConfig', 'must be an array'],
    [{ methodConfig: 'x' }, 'methodConfig', 'must be an array'],
    [{ methodConfig: [{ name: [{}] }, 5] }, 'methodConfig[1]', 'must be an object'],
    [{ methodConfig: [{ name: {} }] }, 'methodConfig[0].name', 'must be an array'],
    [{ methodConfig: [{ name: [{}, 'svc'] }] }, 'methodConfig[0].name[1]', 'must be an object'],
    [{ methodConfig: [{ name: [{ service: 5 }] }] }, 'methodConfig[0].name[0].service', 'must be a string'],
    [{ methodConfig: [{ name: [{ service: 's', method: 5 }] }] }, 'methodConfig[0].name[0].method', 'must be a string'],
    [{ methodConfig: [{ name: [{ method: 'Get' }] }] }, 'methodConfig[0].name[0].service', 'must be set when "method" is set'],
    [
      { methodConfig: [{ name: [{ service: '', method: 'Get' }] }] },
      'methodConfig[0].name[0].service',
      'must be set when "method" is set',
    ],
    [
      { methodConfig: [{ name: [{ service: null, method: 'Get' }] }] },
      'methodConfig[0].name[0].service',
      'must be set when "method" is set',
    ],
    [{ methodConfig: [{ name: [{ service: '/pkg.Svc' }] }] }, 'methodConfig[0].name[0].service', 'must not contain "/"'],
    [{ methodConfig: [{ name: [{ service: 's', method: 'a/b' }] }] }, 'methodConfig[0].name[0].method', 'must not contain "/"'],
  ])('%j → %s: %s', (input, path, rule) => {
    const error = configError(input);
    expect(error.path).toBe(path);
    expect(error.rule).toBe(rule);
  });

  it.each([
    [
      [{ name: [{ service: 's', method: 'm' }] }, { name: [{ service: 's', method: 'm' }] }],
      'methodConfig[1].name[0]',
      'duplicate method name {service: "s", method: "m"}, already at methodConfig[0].name[0]',
    ],
    [
      [{ name: [{ service: 's' }] }, { name: [{ service: 'x' }, { service: 's', method: '' }] }],
      'methodConfig[1].name[1]',
      'duplicate method name {service: "s"}, already at methodConfig[0].name[0]',
    ],
    [
      [{ name: [{}] }, { name: [{ service: '' }] }],
      'methodConfig[1].name[0]',
      'duplicate method name {} (the default), already at methodConfig[0].name[0]',
    ],
    [
      [{ name: [{ service: 's', method: null }, { service: 's' }] }],
      'methodConfig[0].name[1]',
      'duplicate method name {service: "s"}, already at methodConfig[0].name[0]',
    ],
  ])('rejects a name used twice (%#)', (methodConfig, path, rule) => {
    const error = configError({ methodConfig });
    expect(error.path).toBe(path);
    expect(error.rule).toBe(rule);
  });
});

describe('parseServiceConfig: method settings', () => {
  it('parses timeout, waitForReady and message limits', () => {
    const method = only(
      parse(withMethod({ timeout: '0.000340012s', waitForReady: false, maxRequestMessageBytes: 0, maxResponseMessageBytes: '4194304' })),
    );
    expect(method).toEqual({
      timeoutMs: 0.340012,
      waitForReady: false,
      maxRequestMessageBytes: 0,
      maxResponseMessageBytes: 4_194_304,
    });
  });

  it('accepts the timeout object form and a zero timeout', () => {
    expect(only(parse(withMethod({ timeout: { seconds: 2, nanos: 500_000_000 } }))).timeoutMs).toBe(2500);
    expect(only(parse(withMethod({ timeout: '0s' }))).timeoutMs).toBe(0);
  });

  it('accepts the uint32 bounds', () => {
    expect(only(parse(withMethod({ maxRequestMessageBytes: 4_294_967_295 }))).maxRequestMessageBytes).toBe(4_294_967_295);
  });

  it.each([
    [{ timeout: 'soon' }, 'methodConfig[0].timeout', /^must be a duration string/],
    [{ timeout: 5 }, 'methodConfig[0].timeout', /^must be a duration: /],
    [{ timeout: '-1s' }, 'methodConfig[0].timeout', /^must be a duration >= 0$/],
    [{ timeout: { seconds: 1.5 } }, 'methodConfig[0].timeout.seconds', /^must be an integer/],
    [{ waitForReady: 'true' }, 'methodConfig[0].waitForReady', /^must be a boolean$/],
    [{ waitForReady: 1 }, 'methodConfig[0].waitForReady', /^must be a boolean$/],
    [{ maxRequestMessageBytes: -1 }, 'methodConfig[0].maxRequestMessageBytes', /^must be an integer in \[0, 4294967295\]$/],
    [{ maxRequestMessageBytes: 1.5 }, 'methodConfig[0].maxRequestMessageBytes', /^must be an integer in \[0, 4294967295\]$/],
    [{ maxRequestMessageBytes: 4_294_967_296 }, 'methodConfig[0].maxRequestMessageBytes', /^must be an integer/],
    [{ maxRequestMessageBytes: '1 KiB' }, 'methodConfig[0].maxRequestMessageBytes', /^must be an integer/],
    [{ maxRequestMessageBytes: true }, 'methodConfig[0].maxRequestMessageBytes', /^must be an integer/],
    [{ maxResponseMessageBytes: [] }, 'methodConfig[0].maxResponseMessageBytes', /^must be an integer/],
    [{ maxResponseMessageBytes: Number.POSITIVE_INFINITY }, 'methodConfig[0].maxResponseMessageBytes', /^must be an integer/],
    [{ retryPolicy: RETRY, hedgingPolicy: HEDGING }, 'methodConfig[0]', /^must not set both "retryPolicy" and "hedgingPolicy"$/],
  ])('%j → %s', (fields, path, rule) => {
    const error = configError(withMethod(fields));
    expect(error.path).toBe(path);
    expect(error.rule).toMatch(rule);
  });
});

describe('parseServiceConfig: retryPolicy (gRFC A6)', () => {
  it('parses a valid policy', () => {
    expect(only(parse(withRetry({}))).retryPolicy).toEqual({
      maxAttempts: 3,
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
      backoffMultiplier: 2,
      retryableStatusCodes: new Set([status.UNAVAILABLE]),
    });
  });

  it('accepts numeric strings and the object duration form', () => {
    const policy = only(
      parse(withRetry({ maxAttempts: '4', backoffMultiplier: '1.5', initialBackoff: { nanos: 1000 }, retryableStatusCodes: [14, 'aborted'] })),
    ).retryPolicy!;
    expect(policy.maxAttempts).toBe(4);
    expect(policy.backoffMultiplier).toBe(1.5);
    expect(policy.initialBackoffMs).toBe(0.001);
    expect(policy.retryableStatusCodes).toEqual(new Set([status.UNAVAILABLE, status.ABORTED]));
  });

  it('caps maxAttempts at the client cap without an error', () => {
    expect(only(parse(withRetry({ maxAttempts: 10 }))).retryPolicy!.maxAttempts).toBe(5);
    expect(only(parse(withRetry({ maxAttempts: 10 }), 7)).retryPolicy!.maxAttempts).toBe(7);
    expect(only(parse(withRetry({ maxAttempts: 6 }), 7)).retryPolicy!.maxAttempts).toBe(6);
    expect(only(parse(withRetry({ maxAttempts: 2 }))).retryPolicy!.maxAttempts).toBe(2);
  });

  it('reports the exact path and value', () => {
    const config = {
      methodConfig: [
        { name: [{ service: 'a' }], retryPolicy: RETRY },
        { name: [{ service: 'b' }], retryPolicy: { ...RETRY, maxAttempts: 1 } },
      ],
    };
    expect(() => parseServiceConfig(config, OPTIONS)).toThrow(
      'methodConfig[1].retryPolicy.maxAttempts: must be an integer >= 2, got 1',
    );
  });

  const P = 'methodConfig[0].retryPolicy';
  it.each([
    ['not an object', withMethod({ retryPolicy: [] }), P, 'must be an object'],
    ['maxAttempts absent', withMethod({ retryPolicy: omit(RETRY, 'maxAttempts') }), `${P}.maxAttempts`, 'is required'],
    ['maxAttempts 1', withRetry({ maxAttempts: 1 }), `${P}.maxAttempts`, 'must be an integer >= 2'],
    ['maxAttempts 0', withRetry({ maxAttempts: 0 }), `${P}.maxAttempts`, 'must be an integer >= 2'],
    ['maxAttempts 2.5', withRetry({ maxAttempts: 2.5 }), `${P}.maxAttempts`, 'must be an integer >= 2'],
    ['maxAttempts "x"', withRetry({ maxAttempts: 'x' }), `${P}.maxAttempts`, 'must be an integer >= 2'],
    ['maxAttempts true', withRetry({ maxAttempts: true }), `${P}.maxAttempts`, 'must be an integer >= 2'],
    ['initialBackoff absent', withMethod({ retryPolicy: omit(RETRY, 'initialBackoff') }), `${P}.initialBackoff`, 'is required'],
    ['initialBackoff 0s', withRetry({ initialBackoff: '0s' }), `${P}.initialBackoff`, 'must be a duration > 0'],
    ['initialBackoff -1s', withRetry({ initialBackoff: '-1s' }), `${P}.initialBackoff`, 'must be a duration > 0'],
    ['initialBackoff 100ms', withRetry({ initialBackoff: '100ms' }), `${P}.initialBackoff`, /^must be a duration string/],
    ['initialBackoff 0.1', withRetry({ initialBackoff: 0.1 }), `${P}.initialBackoff`, /^must be a duration: /],
    ['maxBackoff absent', withMethod({ retryPolicy: omit(RETRY, 'maxBackoff') }), `${P}.maxBackoff`, 'is required'],
    ['maxBackoff 0s', withRetry({ maxBackoff: { seconds: 0 } }), `${P}.maxBackoff`, 'must be a duration > 0'],
    ['backoffMultiplier absent', withMethod({ retryPolicy: omit(RETRY, 'backoffMultiplier') }), `${P}.backoffMultiplier`, 'is required'],
    ['backoffMultiplier 0', withRetry({ backoffMultiplier: 0 }), `${P}.backoffMultiplier`, 'must be a number > 0'],
    ['backoffMultiplier -2', withRetry({ backoffMultiplier: -2 }), `${P}.backoffMultiplier`, 'must be a number > 0'],
    ['backoffMultiplier "two"', withRetry({ backoffMultiplier: 'two' }), `${P}.backoffMultiplier`, 'must be a number > 0'],
    ['backoffMultiplier NaN', withRetry({ backoffMultiplier: Number.NaN }), `${P}.backoffMultiplier`, 'must be a number > 0'],
    [
      'retryableStatusCodes absent',
      withMethod({ retryPolicy: omit(RETRY, 'retryableStatusCodes') }),
      `${P}.retryableStatusCodes`,
      'is required',
    ],
    ['retryableStatusCodes []', withRetry({ retryableStatusCodes: [] }), `${P}.retryableStatusCodes`, 'must be a non-empty array of status codes'],
    ['retryableStatusCodes string', withRetry({ retryableStatusCodes: 'UNAVAILABLE' }), `${P}.retryableStatusCodes`, 'must be an array'],
    ['retryableStatusCodes bad code', withRetry({ retryableStatusCodes: [14, 'BOGUS'] }), `${P}.retryableStatusCodes[1]`, /^must be a status code/],
    ['retryableStatusCodes 17', withRetry({ retryableStatusCodes: [17] }), `${P}.retryableStatusCodes[0]`, /^must be a status code/],
  ])('%s', (_label, input, path, rule) => {
    const error = configError(input);
    expect(error.path).toBe(path);
    if (typeof rule === 'string') expect(error.rule).toBe(rule);
    else expect(error.rule).toMatch(rule);
  });
});

describe('parseServiceConfig: hedgingPolicy (gRFC A6)', () => {
  it('parses a valid policy', () => {
    expect(only(parse(withHedging({}))).hedgingPolicy).toEqual({
      maxAttempts: 3,
      hedgingDelayMs: 500,
      nonFatalStatusCodes: new Set([status.UNAVAILABLE, status.INTERNAL]),
    });
  });

  it('defaults hedgingDelay to 0 and nonFatalStatusCodes to none', () => {
    const policy = only(parse(withMethod({ hedgingPolicy: { maxAttempts: 2 } }))).hedgingPolicy!;
    expect(policy.hedgingDelayMs).toBe(0);
    expect(policy.nonFatalStatusCodes.size).toBe(0);
    expect(only(parse(withHedging({ hedgingDelay: '0s', nonFatalStatusCodes: [] }))).hedgingPolicy!.hedgingDelayMs).toBe(0);
  });

  it('caps maxAttempts', () => {
    expect(only(parse(withHedging({ maxAttempts: 100 }))).hedgingPolicy!.maxAttempts).toBe(5);
    expect(only(parse(withHedging({ maxAttempts: 100 }), 8)).hedgingPolicy!.maxAttempts).toBe(8);
  });

  const P = 'methodConfig[0].hedgingPolicy';
  it.each([
    ['not an object', withMethod({ hedgingPolicy: 'fast' }), P, 'must be an object'],
    ['maxAttempts absent', withMethod({ hedgingPolicy: omit(HEDGING, 'maxAttempts') }), `${P}.maxAttempts`, 'is required'],
    ['maxAttempts 1', withHedging({ maxAttempts: 1 }), `${P}.maxAttempts`, 'must be an integer >= 2'],
    ['maxAttempts -3', withHedging({ maxAttempts: -3 }), `${P}.maxAttempts`, 'must be an integer >= 2'],
    ['hedgingDelay -1s', withHedging({ hedgingDelay: '-1s' }), `${P}.hedgingDelay`, 'must be a duration >= 0'],
    ['hedgingDelay 1', withHedging({ hedgingDelay: 1 }), `${P}.hedgingDelay`, /^must be a duration: /],
    ['nonFatalStatusCodes object', withHedging({ nonFatalStatusCodes: {} }), `${P}.nonFatalStatusCodes`, 'must be an array'],
    ['nonFatalStatusCodes bad', withHedging({ nonFatalStatusCodes: ['ok', 'nope'] }), `${P}.nonFatalStatusCodes[1]`, /^must be a status code/],
  ])('%s', (_label, input, path, rule) => {
    const error = configError(input);
    expect(error.path).toBe(path);
    if (typeof rule === 'string') expect(error.rule).toBe(rule);
    else expect(error.rule).toMatch(rule);
  });
});

describe('parseServiceConfig: retryThrottling (gRFC A6)', () => {
  it('parses valid parameters', () => {
    expect(parse(withThrottling({})).retryThrottling).toEqual({ maxTokens: 10, tokenRatio: 0.1 });
    expect(parse(withThrottling({ maxTokens: 1000, tokenRatio: 2 })).retryThrottling).toEqual({ maxTokens: 1000, tokenRatio: 2 });
    expect(parse(withThrottling({ maxTokens: '1', tokenRatio: '0.5' })).retryThrottling).toEqual({ maxTokens: 1, tokenRatio: 0.5 });
  });

  it.each([
    [0.5466, 0.546],
    [0.291, 0.291],
    [0.1239999, 0.123],
    [0.001, 0.001],
    [0.0019, 0.001],
    [1.9999, 1.999],
    [3, 3],
    ['0.5466', 0.546],
    ['5e-1', 0.5],
  ])('keeps 3 decimal places of tokenRatio %j → %d (more are ignored)', (ratio, expected) => {
    expect(parse(withThrottling({ tokenRatio: ratio })).retryThrottling!.tokenRatio).toBe(expected);
  });

  it.each([
    ['not an object', { retryThrottling: [10, 0.1] }, 'retryThrottling', 'must be an object'],
    ['maxTokens absent', { retryThrottling: { tokenRatio: 0.1 } }, 'retryThrottling.maxTokens', 'is required'],
    ['maxTokens 0', withThrottling({ maxTokens: 0 }), 'retryThrottling.maxTokens', 'must be an integer in (0, 1000]'],
    ['maxTokens -1', withThrottling({ maxTokens: -1 }), 'retryThrottling.maxTokens', 'must be an integer in (0, 1000]'],
    ['maxTokens 1001', withThrottling({ maxTokens: 1001 }), 'retryThrottling.maxTokens', 'must be an integer in (0, 1000]'],
    ['maxTokens 10.5', withThrottling({ maxTokens: 10.5 }), 'retryThrottling.maxTokens', 'must be an integer in (0, 1000]'],
    ['maxTokens "ten"', withThrottling({ maxTokens: 'ten' }), 'retryThrottling.maxTokens', 'must be an integer in (0, 1000]'],
    ['tokenRatio absent', { retryThrottling: { maxTokens: 10 } }, 'retryThrottling.tokenRatio', 'is required'],
    ['tokenRatio 0', withThrottling({ tokenRatio: 0 }), 'retryThrottling.tokenRatio', 'must be a number > 0'],
    ['tokenRatio -0.5', withThrottling({ tokenRatio: -0.5 }), 'retryThrottling.tokenRatio', 'must be a number > 0'],
    ['tokenRatio true', withThrottling({ tokenRatio: true }), 'retryThrottling.tokenRatio', 'must be a number > 0'],
    [
      'tokenRatio 0.0009',
      withThrottling({ tokenRatio: 0.0009 }),
      'retryThrottling.tokenRatio',
      'must be >= 0.001 (decimal places beyond 3 are ignored)',
    ],
    [
      'tokenRatio 1e-7',
      withThrottling({ tokenRatio: 1e-7 }),
      'retryThrottling.tokenRatio',
      'must be >= 0.001 (decimal places beyond 3 are ignored)',
    ],
  ])('%s', (_label, input, path, rule) => {
    const error = configError(input);
    expect(error.path).toBe(path);
    expect(error.rule).toBe(rule);
  });
});

describe('parseServiceConfig: healthCheckConfig (gRFC A17)', () => {
  it('reads serviceName, including the empty name', () => {
    expect(parse({ healthCheckConfig: { serviceName: 'grpc.health' } }).healthCheckServiceName).toBe('grpc.health');
    expect(parse({ healthCheckConfig: { serviceName: '' } }).healthCheckServiceName).toBe('');
    expect(parse({ healthCheckConfig: {} }).healthCheckServiceName).toBeUndefined();
  });

  it.each([
    [{ healthCheckConfig: 'svc' }, 'healthCheckConfig', 'must be an object'],
    [{ healthCheckConfig: { serviceName: 5 } }, 'healthCheckConfig.serviceName', 'must be a string'],
  ])('%j → %s', (input, path, rule) => {
    const error = configError(input);
    expect(error.path).toBe(path);
    expect(error.rule).toBe(rule);
  });
});
