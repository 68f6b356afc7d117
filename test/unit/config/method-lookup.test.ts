import { describe, expect, it } from 'vitest';
import { createMethodConfigLookup, lookupMethodConfig, METHOD_LOOKUP_CACHE_LIMIT } from '../../../src/config/method-lookup';
import { parseServiceConfig } from '../../../src/config/service-config';
import type { MethodConfig, ServiceConfig } from '../../../src/config/types';

const config = parseServiceConfig(
  {
    methodConfig: [
      { name: [{}], timeout: '1s' },
      { name: [{ service: 'pkg.Svc' }], timeout: '2s' },
      { name: [{ service: 'pkg.Svc', method: 'Exact' }, { service: 'other.Svc', method: 'Only' }], timeout: '3s' },
    ],
  },
  { maxAttemptsCap: 5 },
);

/** A ServiceConfig whose method map counts `get` calls, to see what the lookup really does. */
function countingConfig(entries: Array<[string, MethodConfig]>): { config: ServiceConfig; gets: () => number } {
  let gets = 0;
  class CountingMap extends Map<string, MethodConfig> {
    override get(key: string): MethodConfig | undefined {
      gets++;
      return super.get(key);
    }
  }
  const methodConfigs = new CountingMap(entries);
  return {
    config: { loadBalancing: undefined, methodConfigs, retryThrottling: undefined, healthCheckServiceName: undefined },
    gets: () => gets,
  };
}

describe('createMethodConfigLookup', () => {
  const lookup = createMethodConfigLookup(config);

  it('prefers the exact method, then the service default, then the global default', () => {
    expect(lookup('/pkg.Svc/Exact')?.timeoutMs).toBe(3000);
    expect(lookup('/pkg.Svc/Other')?.timeoutMs).toBe(2000);
    expect(lookup('/other.Svc/Only')?.timeoutMs).toBe(3000);
    expect(lookup('/other.Svc/Else')?.timeoutMs).toBe(1000);
    expect(lookup('/unrelated.Svc/Method')?.timeoutMs).toBe(1000);
  });

  it('does not match a service by prefix or a method in another service', () => {
    expect(lookup('/pkg.SvcX/Exact')?.timeoutMs).toBe(1000);
    expect(lookup('/pkg/Svc')?.timeoutMs).toBe(1000);
    expect(lookup('/other.Svc/Exact')?.timeoutMs).toBe(1000);
  });

  it('falls back to the default for malformed paths', () => {
    expect(lookup('')?.timeoutMs).toBe(1000);
    expect(lookup('noslash')?.timeoutMs).toBe(1000);
    expect(lookup('/')?.timeoutMs).toBe(1000);
  });

  it('returns undefined when nothing matches and there is no default', () => {
    const noDefault = createMethodConfigLookup(
      parseServiceConfig({ methodConfig: [{ name: [{ service: 's' }], timeout: '1s' }] }, { maxAttemptsCap: 5 }),
    );
    expect(noDefault('/s/m')?.timeoutMs).toBe(1000);
    expect(noDefault('/t/m')).toBeUndefined();
    expect(noDefault('/t/m')).toBeUndefined();
    expect(createMethodConfigLookup(parseServiceConfig({}, { maxAttemptsCap: 5 }))('/s/m')).toBeUndefined();
  });

  it('returns the same frozen object every time', () => {
    expect(lookup('/pkg.Svc/Exact')).toBe(config.methodConfigs.get('/pkg.Svc/Exact'));
    expect(lookup('/pkg.Svc/Exact')).toBe(lookup('/pkg.Svc/Exact'));
  });

  it('resolves each method once, then answers from its memo without touching the config', () => {
    const counting = countingConfig([['', { timeoutMs: 1 }]]);
    const memoized = createMethodConfigLookup(counting.config);
    expect(memoized('/a.B/C')?.timeoutMs).toBe(1);
    const afterFirst = counting.gets();
    expect(afterFirst).toBe(3); // exact, service, default
    for (let i = 0; i < 100; i++) memoized('/a.B/C');
    expect(counting.gets()).toBe(afterFirst);
    // A remembered miss is also free.
    const none = countingConfig([['/x/', { timeoutMs: 1 }]]);
    const missing = createMethodConfigLookup(none.config);
    expect(missing('/a.B/C')).toBeUndefined();
    const afterMiss = none.gets();
    expect(missing('/a.B/C')).toBeUndefined();
    expect(none.gets()).toBe(afterMiss);
  });

  it('stops remembering new methods past the cache limit but still answers correctly', () => {
    const counting = countingConfig([
      ['', { timeoutMs: 1 }],
      ['/svc/', { timeoutMs: 2 }],
    ]);
    const bounded = createMethodConfigLookup(counting.config);
    for (let i = 0; i < METHOD_LOOKUP_CACHE_LIMIT; i++) bounded(`/svc/m${i}`);
    const before = counting.gets();
    expect(bounded('/svc/m0')?.timeoutMs).toBe(2); // remembered
    expect(counting.gets()).toBe(before);
    expect(bounded('/other/late')?.timeoutMs).toBe(1); // not remembered: resolved each time
    expect(bounded('/other/late')?.timeoutMs).toBe(1);
    expect(counting.gets()).toBe(before + 6);
  });
});

describe('lookupMethodConfig', () => {
  it('memoizes per config object', () => {
    expect(lookupMethodConfig(config, '/pkg.Svc/Exact')?.timeoutMs).toBe(3000);
    expect(lookupMethodConfig(config, '/pkg.Svc/Any')?.timeoutMs).toBe(2000);
    const other = parseServiceConfig({ methodConfig: [{ name: [{}], timeout: '9s' }] }, { maxAttemptsCap: 5 });
    expect(lookupMethodConfig(other, '/pkg.Svc/Exact')?.timeoutMs).toBe(9000);
    expect(lookupMethodConfig(config, '/pkg.Svc/Exact')?.timeoutMs).toBe(3000);
  });
});
