/** validateServiceConfig: every broken section reported with its path; the ServiceConfig type catches typos. */
import { describe, expect, it } from 'vitest';
import { validateServiceConfig } from '../../../src/config/validate';
import type { ServiceConfig } from '../../../src/config/service-config-schema';

describe('validateServiceConfig', () => {
  it('accepts a valid config and lists what changes nothing', () => {
    const result = validateServiceConfig({ methodConfig: [{ name: [{}], timeout: '1s', retrypolicy: {} }] });
    expect(result.valid).toBe(true);
    expect(result.config?.methodConfigs.get('')?.timeoutMs).toBe(1000);
    expect(result.warnings).toEqual([{ path: 'methodConfig[0].retrypolicy', message: 'unknown field, ignored (did you mean "retryPolicy"?)' }]);
  });

  it('reports the first error of every section and every method config, with its path', () => {
    const result = validateServiceConfig({
      loadBalancingConfig: [{ no_such_policy: {} }],
      methodConfig: [{ name: [{}], timeout: 'x' }, { name: [{ service: 'ok' }] }, { name: [{ service: 'b' }], hedgingPolicy: { maxAttempts: 0 } }],
      retryThrottling: { maxTokens: 10 },
    });
    expect(result.valid).toBe(false);
    expect(result.errors.map((e) => e.path).sort()).toEqual([
      'loadBalancingConfig', 'methodConfig[0].timeout', 'methodConfig[2].hedgingPolicy.maxAttempts', 'retryThrottling.tokenRatio',
    ]);
  });

  it('reports errors only the whole config has (a name in two entries), and unparseable JSON', () => {
    const duplicate = validateServiceConfig({ methodConfig: [{ name: [{ service: 'a' }] }, { name: [{ service: 'a' }] }] });
    expect(duplicate.errors).toHaveLength(1);
    expect(duplicate.errors[0]!.path).toBe('methodConfig[1].name[0]');
    expect(validateServiceConfig('{ nope').errors[0]!.path).toBe('serviceConfig');
  });
});

describe('ServiceConfig type', () => {
  it('catches misspelt fields and policy names at compile time (tsc checks this file)', () => {
    const ok = {
      loadBalancingConfig: [{ outlier_detection: { child_policy: [{ round_robin: {} }] } }, { pick_first: { shuffleAddressList: true } }],
      methodConfig: [{ name: [{ service: 's' }], timeout: '0.5s', hedgingPolicy: { maxAttempts: 2, hedgingDelay: '0.1s' } }],
    } satisfies ServiceConfig;
    // @ts-expect-error misspelt top-level field
    const a = { methodConfg: [] } satisfies ServiceConfig;
    // @ts-expect-error unknown policy name
    const b = { loadBalancingConfig: [{ round_robbin: {} }] } satisfies ServiceConfig;
    // @ts-expect-error misspelt field of a built-in policy's config
    const c = { loadBalancingConfig: [{ pick_first: { shuffleAdressList: true } }] } satisfies ServiceConfig;
    // @ts-expect-error a status code name that does not exist
    const d = { methodConfig: [{ name: [{}], hedgingPolicy: { maxAttempts: 2, nonFatalStatusCodes: ['UNAVAILBLE'] } }] } satisfies ServiceConfig;
    const custom = { loadBalancingConfig: [{ my_policy: { x: 1 } }] } satisfies ServiceConfig<{ my_policy: { x: number } }>;
    for (const config of [ok, a, b, c, d, custom]) expect(validateServiceConfig(config).errors.length >= 0).toBe(true);
  });
});
