import { beforeAll, describe, expect, it } from 'vitest';
import { parseServiceConfig } from '../../../src/config/service-config';
import { ConfigError } from '../../../src/errors';
import { getLoadBalancingPolicyFactory, registerLoadBalancingPolicy } from '../../../src/picker/registry';
import type { LoadBalancingPolicyFactory } from '../../../src/picker/types';

/** A stand-in policy: its config must be an object without a `bad` field; parsed config is a tagged copy. */
function fakePolicy(name: string): LoadBalancingPolicyFactory {
  return {
    name,
    parseConfig(json, path) {
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw new ConfigError(path, 'must be an object', json);
      }
      if ('bad' in json) throw new ConfigError(`${path}.bad`, 'is not allowed');
      return { policy: name, ...json };
    },
    create() {
      throw new Error('not used by these tests');
    },
  };
}

beforeAll(() => {
  registerLoadBalancingPolicy(fakePolicy('pick_first'));
  registerLoadBalancingPolicy(fakePolicy('round_robin'));
  registerLoadBalancingPolicy({
    ...fakePolicy('exploding'),
    parseConfig() {
      throw new TypeError('cannot read properties of undefined');
    },
  });
});

function parse(input: unknown) {
  return parseServiceConfig(input, { maxAttemptsCap: 5 });
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

describe('loadBalancingConfig (gRFC A24)', () => {
  it('uses the first registered entry, skipping unknown ones', () => {
    const choice = parse({ loadBalancingConfig: [{ weighted_thing: { x: 1 } }, { round_robin: { a: 1 } }, { pick_first: {} }] })
      .loadBalancing!;
    expect(choice.factory).toBe(getLoadBalancingPolicyFactory('round_robin'));
    expect(choice.config).toEqual({ policy: 'round_robin', a: 1 });
    expect(Object.isFrozen(choice)).toBe(true);
  });

  it('passes the entry path to the policy parser and does not fall through when it rejects', () => {
    const error = configError({ loadBalancingConfig: [{ unknown: {} }, { round_robin: { bad: 1 } }, { pick_first: {} }] });
    expect(error.path).toBe('loadBalancingConfig[1].round_robin.bad');
    expect(error.rule).toBe('is not allowed');
    expect(configError({ loadBalancingConfig: [{ pick_first: 5 }] }).path).toBe('loadBalancingConfig[0].pick_first');
  });

  it('turns a policy parser crash into a ConfigError at the entry', () => {
    const error = configError({ loadBalancingConfig: [{ exploding: {} }] });
    expect(error.path).toBe('loadBalancingConfig[0].exploding');
    expect(error.rule).toBe('is invalid: cannot read properties of undefined');
  });

  it('rejects the config when no entry is registered', () => {
    expect(() => parse({ loadBalancingConfig: [{ foo: {} }] })).toThrow(
      new ConfigError('loadBalancingConfig', 'no supported policy: "foo" is not registered (registered: exploding, pick_first, round_robin)'),
    );
    const error = configError({ loadBalancingConfig: [{ foo: {} }, { bar: {} }] });
    expect(error.message).toBe(
      'loadBalancingConfig: no supported policy: "foo", "bar" are not registered (registered: exploding, pick_first, round_robin)',
    );
    expect(configError({ loadBalancingConfig: [] }).rule).toBe(
      'no supported policy: the list is empty (registered: exploding, pick_first, round_robin)',
    );
  });

  it.each([
    [{ loadBalancingConfig: { round_robin: {} } }, 'loadBalancingConfig', 'must be an array'],
    [{ loadBalancingConfig: 'round_robin' }, 'loadBalancingConfig', 'must be an array'],
    [{ loadBalancingConfig: [{}] }, 'loadBalancingConfig[0]', 'must be an object with exactly one key, the policy name'],
    [
      { loadBalancingConfig: [{ foo: {} }, { round_robin: {}, pick_first: {} }] },
      'loadBalancingConfig[1]',
      'must be an object with exactly one key, the policy name',
    ],
    [{ loadBalancingConfig: ['round_robin'] }, 'loadBalancingConfig[0]', 'must be an object with exactly one key, the policy name'],
    [{ loadBalancingConfig: [null] }, 'loadBalancingConfig[0]', 'must be an object with exactly one key, the policy name'],
  ])('%j → %s: %s', (input, path, rule) => {
    const error = configError(input);
    expect(error.path).toBe(path);
    expect(error.rule).toBe(rule);
  });

  it('does not examine entries after the chosen one', () => {
    expect(parse({ loadBalancingConfig: [{ pick_first: {} }, 5, { a: 1, b: 2 }] }).loadBalancing?.factory.name).toBe('pick_first');
  });

  it('looks names up exactly (case-sensitive), unlike the deprecated field', () => {
    expect(configError({ loadBalancingConfig: [{ ROUND_ROBIN: {} }] }).rule).toMatch(/^no supported policy: "ROUND_ROBIN"/);
  });
});

describe('loadBalancingPolicy (deprecated)', () => {
  it.each(['round_robin', 'ROUND_ROBIN', 'Round_Robin'])('selects %s case-insensitively with the default config', (name) => {
    const choice = parse({ loadBalancingPolicy: name }).loadBalancing!;
    expect(choice.factory.name).toBe('round_robin');
    expect(choice.config).toEqual({ policy: 'round_robin' });
  });

  it('rejects an unknown name, naming it', () => {
    const error = configError({ loadBalancingPolicy: 'least_loaded' });
    expect(error.path).toBe('loadBalancingPolicy');
    expect(error.message).toBe(
      'loadBalancingPolicy: unknown policy (registered: exploding, pick_first, round_robin), got "least_loaded"',
    );
  });

  it('rejects a non-string', () => {
    const error = configError({ loadBalancingPolicy: 1 });
    expect(error.path).toBe('loadBalancingPolicy');
    expect(error.rule).toBe('must be a string');
  });

  it('treats an empty name as unset', () => {
    expect(parse({ loadBalancingPolicy: '' }).loadBalancing).toBeUndefined();
  });

  it('loses to loadBalancingConfig, whose choice wins even over an unknown deprecated name', () => {
    expect(parse({ loadBalancingPolicy: 'round_robin', loadBalancingConfig: [{ pick_first: {} }] }).loadBalancing?.factory.name).toBe(
      'pick_first',
    );
    expect(parse({ loadBalancingPolicy: 'nonsense', loadBalancingConfig: [{ pick_first: {} }] }).loadBalancing?.factory.name).toBe(
      'pick_first',
    );
  });

  it('is still type-checked when loadBalancingConfig wins', () => {
    expect(configError({ loadBalancingPolicy: [], loadBalancingConfig: [{ pick_first: {} }] }).path).toBe('loadBalancingPolicy');
  });

  it('leaves loadBalancing undefined when neither field is set', () => {
    expect(parse({ methodConfig: [] }).loadBalancing).toBeUndefined();
  });
});
