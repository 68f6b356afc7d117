import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors';
import { getResolverFactory, registerResolver } from '../../../src/resolver/registry';
import { parseTarget } from '../../../src/resolver/target';
import '../../../src/resolver'; // registers the built-in resolvers
import { hasAuthoritySection } from '../../../src/resolver/target';
import type { ResolverContext, Target } from '../../../src/resolver/types';
import { systemClock } from '../../../src/clock';

function expectConfigError(raw: string, rule: RegExp): void {
  let thrown: unknown;
  try {
    parseTarget(raw);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  expect((thrown as ConfigError).path).toBe('target');
  expect((thrown as ConfigError).rule).toMatch(rule);
}

describe('parseTarget: registered schemes (doc/naming.md)', () => {
  it.each<[string, Omit<Target, 'raw'>]>([
    ['dns:///localhost:50051', { scheme: 'dns', authority: '', path: 'localhost:50051' }],
    ['dns://127.0.0.1:5353/svc.test:80', { scheme: 'dns', authority: '127.0.0.1:5353', path: 'svc.test:80' }],
    ['dns://[::1]:53/svc.test', { scheme: 'dns', authority: '[::1]:53', path: 'svc.test' }],
    ['dns:svc.test:80', { scheme: 'dns', authority: '', path: 'svc.test:80' }],
    ['DNS:///Svc.Test:80', { scheme: 'dns', authority: '', path: 'Svc.Test:80' }],
    ['dns://8.8.8.8', { scheme: 'dns', authority: '8.8.8.8', path: '' }],
    ['ipv4:1.2.3.4:80,1.2.3.5', { scheme: 'ipv4', authority: '', path: '1.2.3.4:80,1.2.3.5' }],
    ['ipv6:[::1]:80,[::2]:81', { scheme: 'ipv6', authority: '', path: '[::1]:80,[::2]:81' }],
    ['unix:/abs/path', { scheme: 'unix', authority: '', path: '/abs/path' }],
    ['unix:relative/path', { scheme: 'unix', authority: '', path: 'relative/path' }],
    ['unix:///abs/path', { scheme: 'unix', authority: '', path: 'abs/path' }],
  ])('%s', (raw, expected) => {
    expect(parseTarget(raw)).toEqual({ ...expected, raw });
  });

  it('tells scheme:path from scheme://authority/path', () => {
    expect(hasAuthoritySection(parseTarget('unix:///abs/path'))).toBe(true);
    expect(hasAuthoritySection(parseTarget('unix:/abs/path'))).toBe(false);
    expect(hasAuthoritySection(parseTarget('dns:///x'))).toBe(true);
    expect(hasAuthoritySection(parseTarget('localhost:1'))).toBe(false);
  });
});

describe('parseTarget: dns is the default scheme', () => {
  it.each([
    'localhost:50051',
    'localhost',
    'svc.internal',
    'svc.internal.',
    'my_svc-1.ns.svc.cluster.local:8080',
    '127.0.0.1:50051',
    '127.0.0.1',
    '[::1]:50051',
    '[::1]',
    '::1',
    'fe80::1',
    '2001:db8::1',
    'dns',
  ])('%s means dns:///%s', (raw) => {
    expect(parseTarget(raw)).toEqual({ scheme: 'dns', authority: '', path: raw, raw });
  });
});

describe('parseTarget: errors are ConfigError at path "target"', () => {
  it.each<[string, RegExp]>([
    ['', /must not be empty/],
    ['   ', /must not be empty/],
    ['\t', /must not be empty/],
    [' localhost:1', /leading or trailing whitespace/],
    ['localhost:1\n', /leading or trailing whitespace/],
    ['local\u0000host', /control characters/],
    ['dns:///a\u0007b', /control characters/],
    ['dns:///a\u0085b', /control characters/],
    ['foo://bar/x', /^unknown scheme "foo" \(registered: dns, etcd, ipv4, ipv6, unix\)$/],
    ['etcdx:///svc', /^unknown scheme "etcdx" /],
    ['http://localhost:80', /^unknown scheme "http" /],
    ['localhost:abc', /^unknown scheme "localhost" /],
    ['localhost:99999', /port "99999" must be an integer in \[1, 65535\]/],
    ['localhost:0', /port "0" must be an integer in \[1, 65535\]/],
    ['localhost:', /port "" must be an integer/],
    [':50051', /host is empty/],
    ['/tmp/s.sock', /neither a host name nor an IP literal; for a Unix socket write unix:<path>/],
    ['1.2.3.999:80', /host "1.2.3.999" is neither a host name nor an IP literal/],
    ['[127.0.0.1]:80', /brackets may only hold an IPv6 literal/],
    ['[::1', /without a closing/],
    ['[::1]x', /unexpected text/],
    ['-bad-.test:80', /neither a host name/],
    ['a..b', /neither a host name/],
    ['ho st:80', /neither a host name/],
  ])('%j', (raw, rule) => {
    expectConfigError(raw, rule);
  });

  it('rejects non-strings with a ConfigError', () => {
    expect(() => parseTarget(42 as unknown as string)).toThrow(ConfigError);
    expect(() => parseTarget(undefined as unknown as string)).toThrow(ConfigError);
  });

  it('names the target in the message', () => {
    expect(() => parseTarget('foo://bar/x')).toThrow(
      'target: unknown scheme "foo" (registered: dns, etcd, ipv4, ipv6, unix), got "foo://bar/x"',
    );
  });
});

describe('parseTarget and resolver create(): random strings throw only ConfigError', () => {
  // Small deterministic PRNG (mulberry32) so a failure is reproducible.
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const pieces = [
    'dns:', 'ipv4:', 'ipv6:', 'unix:', 'DNS:', 'foo:', '//', '/', ':', '[', ']', ',', '.', '..', '::1', '127.0.0.1',
    '1.2.3.999', 'localhost', 'svc.test', '80', '0', '65536', '99999999', '-', '_', '%20', ' ', '\t', '\n', '\u0000',
    'é', '\u{1F600}', '@', '?', '#', 'a', 'Z', '9', '\\', '"', '\u2028', '[::1]', ':443', 'xn--', '*',
  ];
  const context: ResolverContext = {
    clock: systemClock,
    refreshIntervalMs: 30_000,
    minResolutionIntervalMs: 30_000,
    serviceConfigLookup: false,
    options: {},
  };
  const listener = { onUpdate() {}, onError() {} };

  it('holds for 5000 random strings', () => {
    const random = prng(20240611);
    let created = 0;
    for (let i = 0; i < 5000; i++) {
      let raw = '';
      const n = 1 + Math.floor(random() * 6);
      for (let j = 0; j < n; j++) raw += pieces[Math.floor(random() * pieces.length)];
      try {
        const target = parseTarget(raw);
        const factory = getResolverFactory(target.scheme);
        expect(factory, raw).toBeDefined();
        // create() validates and must do no I/O; close() right away.
        factory!.create(target, listener, context).close();
        created++;
        expect(typeof factory!.defaultAuthority(target)).toBe('string');
      } catch (error) {
        if (!(error instanceof ConfigError)) throw new Error(`${JSON.stringify(raw)} threw ${String(error)}`, { cause: error });
      }
    }
    expect(created).toBeGreaterThan(100);
  });
});

// Last: registering a scheme changes the registry for the rest of this file.
describe('parseTarget: custom schemes', () => {
  it('parses any registered scheme, including one registered later', () => {
    expect(() => parseTarget('static-test:whatever')).toThrow(ConfigError);
    registerResolver({
      scheme: 'static-test',
      create: () => ({ requestResolution() {}, close() {} }),
      defaultAuthority: () => 'x',
    });
    expect(parseTarget('static-test://auth/a/b')).toEqual({
      scheme: 'static-test',
      authority: 'auth',
      path: 'a/b',
      raw: 'static-test://auth/a/b',
    });
  });
});
