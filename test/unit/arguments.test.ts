import { describe, expect, it } from 'vitest';
import { checkFactoryArgument, POLICY_FACTORY_MEMBERS, RESOLVER_FACTORY_MEMBERS } from '../../src/arguments';
import { ConfigError } from '../../src/errors';
import { registerResolver } from '../../src/resolver/registry';
import type { ResolverFactory } from '../../src/resolver/types';

const fn = (): never => {
  throw new Error('not called');
};

describe('registerResolver argument checks', () => {
  // Breaking it (no check): registerResolver({}) registers the scheme "undefined", then fails with
  // "Cannot read properties of undefined (reading 'toLowerCase')".
  it('throws a TypeError naming the missing member', () => {
    expect(() => registerResolver({} as ResolverFactory))
      .toThrow(new TypeError('registerResolver(factory): factory.scheme must be a string, got undefined'));
    expect(() => registerResolver({ scheme: 'x' } as ResolverFactory))
      .toThrow(new TypeError('registerResolver(factory): factory.create must be a function, got undefined'));
    expect(() => registerResolver({ scheme: 'x', create: fn, defaultAuthority: 'a' } as unknown as ResolverFactory))
      .toThrow(new TypeError('registerResolver(factory): factory.defaultAuthority must be a function, got "a"'));
  });

  it('throws a TypeError for a missing or non-object factory', () => {
    expect(() => registerResolver(undefined as unknown as ResolverFactory))
      .toThrow(new TypeError('registerResolver(factory): must be an object with scheme, create, defaultAuthority, got undefined'));
    expect(() => registerResolver('dns' as unknown as ResolverFactory)).toThrow(/got "dns"$/);
  });

  it('keeps ConfigError for a scheme that is a string but not a URI scheme', () => {
    expect(() => registerResolver({ scheme: '1x', create: fn, defaultAuthority: fn })).toThrow(ConfigError);
  });
});

describe('checkFactoryArgument for load-balancing policy factories', () => {
  const check = (factory: unknown) => () => checkFactoryArgument('registerLoadBalancingPolicy', factory, POLICY_FACTORY_MEMBERS);

  it('names the member at fault', () => {
    expect(check({})).toThrow(new TypeError('registerLoadBalancingPolicy(factory): factory.name must be a string, got undefined'));
    expect(check({ name: 'p', parseConfig: fn })).toThrow(/factory\.create must be a function, got undefined$/);
    expect(check(null)).toThrow(/^registerLoadBalancingPolicy\(factory\): must be an object with name, parseConfig, create, got null$/);
    expect(check({ name: 'p', parseConfig: fn, create: fn })).not.toThrow();
  });

  it('lists the members of each factory kind', () => {
    expect(Object.keys(RESOLVER_FACTORY_MEMBERS)).toEqual(['scheme', 'create', 'defaultAuthority']);
    expect(Object.keys(POLICY_FACTORY_MEMBERS)).toEqual(['name', 'parseConfig', 'create']);
  });
});
