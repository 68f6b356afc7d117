import { describe, expect, it } from 'vitest';
import { parseServiceConfig, parseServiceConfigWithWarnings } from '../../../src/config/service-config';
import { serviceConfigWarnings } from '../../../src/config/service-config-warnings';
import { ConfigError } from '../../../src/errors';
import '../../../src/picker';

const RETRY = {
  maxAttempts: 3, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'],
};
const OPTIONS = { maxAttemptsCap: 5 };

/** `path: rule` per warning, for compact assertions. */
function warningsOf(input: unknown): string[] {
  return parseServiceConfigWithWarnings(input, OPTIONS).warnings.map((w) => `${w.path}: ${w.rule}`);
}

describe('service config warnings (configuration that silently changes nothing)', () => {
  it('reports nothing for a config whose every field is used', () => {
    expect(warningsOf({
      loadBalancingConfig: [{ round_robin: {} }],
      methodConfig: [{
        name: [{ service: 'shop.Orders', method: 'Get' }, { service: 'shop.Cart' }, {}],
        timeout: '1s', waitForReady: true, maxRequestMessageBytes: 10, maxResponseMessageBytes: 10, retryPolicy: RETRY,
      }, { name: [{ service: 'shop.Search' }], hedgingPolicy: { maxAttempts: 2, hedgingDelay: '0.1s', nonFatalStatusCodes: [] } }],
      retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
      healthCheckConfig: { serviceName: '' },
    })).toEqual([]);
  });

  // Breaking it (no check of unknown top-level keys) lets a misspelt methodConfig drop every method config unnoticed.
  it('names unknown top-level fields with their path and the field meant', () => {
    expect(warningsOf({ methodConfg: [], loadBalancingConfigs: [], method_config: [], somethingElse: 1 })).toEqual([
      'methodConfg: unknown field, ignored (did you mean "methodConfig"?)',
      'loadBalancingConfigs: unknown field, ignored (did you mean "loadBalancingConfig"?)',
      'method_config: unknown field, ignored (did you mean "methodConfig"?)',
      'somethingElse: unknown field, ignored',
    ]);
  });

  it('names unknown fields inside method configs, policies, names, throttling and health checking', () => {
    expect(warningsOf({
      methodConfig: [{
        name: [{ service: 'a.B', Method: 'C' }],
        retrypolicy: RETRY,
        timeOut: '1s',
      }, {
        name: [{ service: 'a.D' }],
        retryPolicy: { ...RETRY, maxAttempt: 4 },
      }, {
        name: [{ service: 'a.E' }],
        hedgingPolicy: { maxAttempts: 2, hedgeDelay: '1s' },
      }],
      retryThrottling: { maxTokens: 10, tokenRatio: 0.1, tokens: 3 },
      healthCheckConfig: { service_name: 'x' },
    })).toEqual([
      'methodConfig[0].name[0].Method: unknown field, ignored (did you mean "method"?)',
      'methodConfig[0].retrypolicy: unknown field, ignored (did you mean "retryPolicy"?)',
      'methodConfig[0].timeOut: unknown field, ignored (did you mean "timeout"?)',
      'methodConfig[1].retryPolicy.maxAttempt: unknown field, ignored (did you mean "maxAttempts"?)',
      'methodConfig[2].hedgingPolicy.hedgeDelay: unknown field, ignored',
      'retryThrottling.tokens: unknown field, ignored',
      'healthCheckConfig.service_name: unknown field, ignored (did you mean "serviceName"?)',
    ]);
  });

  it('reports gRPC fields switchyard does not implement', () => {
    expect(warningsOf({
      connectionScaling: { maxConnectionsPerSubchannel: 2 },
      methodConfig: [{ name: [{}], retryPolicy: { ...RETRY, perAttemptRecvTimeout: '1s' } }],
    })).toEqual([
      'connectionScaling: is not supported by switchyard and has no effect',
      'methodConfig[0].retryPolicy.perAttemptRecvTimeout: is not supported by switchyard and has no effect',
    ]);
  });

  // Breaking it (no name check) lets a method config without names pass as if it applied to something.
  it('reports a method config without name, or with an empty list', () => {
    expect(warningsOf({ methodConfig: [{ timeout: '1s' }, { name: [], timeout: '2s' }, { name: null, timeout: '3s' }] })).toEqual([
      'methodConfig[0].name: is missing or empty: this method config applies to no method',
      'methodConfig[1].name: is missing or empty: this method config applies to no method',
      'methodConfig[2].name: is missing or empty: this method config applies to no method',
    ]);
  });

  it('reports a name that no method path can match', () => {
    expect(warningsOf({ methodConfig: [{ name: [{ service: 'shop.Orders ' }, { service: 'shop.Cart', method: 'Get\n' }], timeout: '1s' }] }))
      .toEqual([
        'methodConfig[0].name[0].service: contains whitespace or a control character ("shop.Orders "): matches no method',
        'methodConfig[0].name[1].method: contains whitespace or a control character ("Get\\n"): matches no method',
      ]);
  });

  it('still accepts the config (gRPC ignores unknown fields) and parses what it knows', () => {
    const { config, warnings } = parseServiceConfigWithWarnings(
      JSON.stringify({ methodConfig: [{ name: [{ service: 'a.B' }], timeout: '1s', retrypolicy: RETRY }] }), OPTIONS);
    expect(warnings).toHaveLength(1);
    expect(config.methodConfigs.get('/a.B/')).toEqual({ timeoutMs: 1_000 });
    expect(parseServiceConfig({ unknown: 1 }, OPTIONS).methodConfigs.size).toBe(0);
  });

  // Breaking it (strict ignored) accepts a config that drops the retry policy silently.
  it('strict turns the first warning into a ConfigError naming its path', () => {
    const input = { methodConfig: [{ name: [{ service: 'a.B' }], retrypolicy: RETRY }] };
    expect(() => parseServiceConfig(input, { ...OPTIONS, strict: true })).toThrow(ConfigError);
    expect(() => parseServiceConfig(input, { ...OPTIONS, strict: true }))
      .toThrow('methodConfig[0].retrypolicy: unknown field, ignored (did you mean "retryPolicy"?) (strict)');
    expect(parseServiceConfigWithWarnings({ methodConfig: [{ name: [{}] }] }, { ...OPTIONS, strict: true }).warnings).toEqual([]);
  });

  it('strict reports a validity error before any warning', () => {
    expect(() => parseServiceConfig({ unknown: 1, retryThrottling: { maxTokens: 0, tokenRatio: 1 } }, { ...OPTIONS, strict: true }))
      .toThrow(/^retryThrottling\.maxTokens: /);
  });

  it('never throws, whatever the JSON', () => {
    for (const value of [null, 1, 'x', [], { methodConfig: 'x' }, { methodConfig: [1, null, { name: 'x' }] }, { retryThrottling: [] }]) {
      expect(() => serviceConfigWarnings(value)).not.toThrow();
    }
  });
});
