import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock';
import { ConfigError } from '../../../src/errors';
import { parseTarget } from '../../../src/resolver/target';
import '../../../src/resolver'; // registers the built-in resolvers
import { ipv4ResolverFactory, ipv6ResolverFactory } from '../../../src/resolver/ip';
import type { ResolverContext, ResolverFactory, ResolverUpdate } from '../../../src/resolver/types';

const context: ResolverContext = {
  clock: systemClock,
  refreshIntervalMs: 30_000,
  minResolutionIntervalMs: 30_000,
  serviceConfigLookup: true,
  options: {},
};

function recorder() {
  const updates: ResolverUpdate[] = [];
  const errors: Error[] = [];
  return { updates, errors, listener: { onUpdate: (u: ResolverUpdate) => updates.push(u), onError: (e: Error) => errors.push(e) } };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function createError(factory: ResolverFactory, raw: string): ConfigError {
  try {
    factory.create(parseTarget(raw), recorder().listener, context);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe('target');
    return error as ConfigError;
  }
  throw new Error(`${raw} was accepted`);
}

describe('ipv4: resolver (doc/naming.md)', () => {
  it('reports one endpoint per address, default port 443, duplicates removed', async () => {
    const { updates, errors, listener } = recorder();
    const resolver = ipv4ResolverFactory.create(parseTarget('ipv4:127.0.0.1:80,127.0.0.2,127.0.0.1:80,127.0.0.1:81'), listener, context);
    expect(updates).toEqual([]);
    resolver.requestResolution();
    expect(updates).toEqual([]); // never synchronously inside requestResolution()
    await settle();
    expect(errors).toEqual([]);
    expect(updates).toEqual([
      {
        endpoints: [
          { addresses: [{ host: '127.0.0.1', port: 80 }] },
          { addresses: [{ host: '127.0.0.2', port: 443 }] },
          { addresses: [{ host: '127.0.0.1', port: 81 }] },
        ],
      },
    ]);
    expect(updates[0]!.serviceConfig).toBeUndefined();
    resolver.close();
  });

  it('reports once: the list cannot change, so later requests do nothing', async () => {
    const { updates, listener } = recorder();
    const resolver = ipv4ResolverFactory.create(parseTarget('ipv4:127.0.0.1:80'), listener, context);
    resolver.requestResolution();
    resolver.requestResolution();
    await settle();
    expect(updates).toHaveLength(1);
    resolver.requestResolution();
    await settle();
    expect(updates).toHaveLength(1);
    resolver.close();
  });

  it('delivers nothing after close(), even a queued report', async () => {
    const { updates, listener } = recorder();
    const resolver = ipv4ResolverFactory.create(parseTarget('ipv4:127.0.0.1:80'), listener, context);
    resolver.requestResolution();
    resolver.close();
    resolver.requestResolution();
    await settle();
    expect(updates).toEqual([]);
  });

  it('default authority is the first entry as written', () => {
    expect(ipv4ResolverFactory.defaultAuthority(parseTarget('ipv4:1.2.3.4:80,1.2.3.5'))).toBe('1.2.3.4:80');
    expect(ipv4ResolverFactory.defaultAuthority(parseTarget('ipv4:1.2.3.4'))).toBe('1.2.3.4');
  });

  it.each<[string, string]>([
    ['ipv4:1.2.3.999', 'ipv4 address "1.2.3.999" is not an IPv4 literal'],
    ['ipv4:localhost:80', 'ipv4 address "localhost" is not an IPv4 literal'],
    ['ipv4:[::1]:80', 'ipv4 address "::1" is not an IPv4 literal'],
    ['ipv4:', 'ipv4 target lists no address'],
    ['ipv4:1.2.3.4,', 'ipv4 address list has an empty entry'],
    ['ipv4:1.2.3.4,,1.2.3.5', 'ipv4 address list has an empty entry'],
    ['ipv4:1.2.3.4:0', 'ipv4 address "1.2.3.4:0": port "0" must be an integer in [1, 65535]'],
    ['ipv4:1.2.3.4:65536', 'ipv4 address "1.2.3.4:65536": port "65536" must be an integer in [1, 65535]'],
    ['ipv4:1.2.3.4:http', 'ipv4 address "1.2.3.4:http": port "http" must be an integer in [1, 65535]'],
    ['ipv4://host/1.2.3.4', 'ipv4 targets take no authority ("host")'],
  ])('%s → %s', (raw, rule) => {
    const error = createError(ipv4ResolverFactory, raw);
    expect(error.rule).toBe(rule);
    expect(error.message).toBe(`target: ${rule}, got ${JSON.stringify(raw)}`);
  });
});

describe('ipv6: resolver (doc/naming.md)', () => {
  it('parses bracketed addresses with ports and bare addresses without', async () => {
    const { updates, listener } = recorder();
    const resolver = ipv6ResolverFactory.create(parseTarget('ipv6:[::1]:80,[::2]:81,::3,[::1]:80,[::4]'), listener, context);
    resolver.requestResolution();
    await settle();
    expect(updates[0]!.endpoints).toEqual([
      { addresses: [{ host: '::1', port: 80 }] },
      { addresses: [{ host: '::2', port: 81 }] },
      { addresses: [{ host: '::3', port: 443 }] },
      { addresses: [{ host: '::4', port: 443 }] },
    ]);
    resolver.close();
  });

  it('default authority is the first entry as written', () => {
    expect(ipv6ResolverFactory.defaultAuthority(parseTarget('ipv6:[::1]:80,[::2]:81'))).toBe('[::1]:80');
  });

  it.each<[string, RegExp]>([
    ['ipv6:1.2.3.4', /^ipv6 address "1.2.3.4" is not an IPv6 literal$/],
    ['ipv6:[::1', /"\[" without a closing "\]"/],
    ['ipv6:[::1]80', /unexpected text "80" after "\]"/],
    ['ipv6:[::1]:99999', /port "99999" must be an integer in \[1, 65535\]/],
    ['ipv6:[1.2.3.4]:80', /brackets may only hold an IPv6 literal/],
    ['ipv6:::g', /neither host:port nor an IPv6 literal/],
    ['ipv6:', /^ipv6 target lists no address$/],
  ])('%s is rejected', (raw, rule) => {
    expect(createError(ipv6ResolverFactory, raw).rule).toMatch(rule);
  });
});
