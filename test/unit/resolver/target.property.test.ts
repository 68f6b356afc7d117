/**
 * Bad input, targets (issue "Faults"): any string given as a channel target yields a parsed target or a
 * `ConfigError` naming `target` (never another exception), and valid targets parse to what they say
 * (gRPC `doc/naming.md`).
 */
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChannel } from '../../../src/channel/channel';
import { ConfigError } from '../../../src/errors';
import { parseDnsTarget } from '../../../src/resolver/dns';
import { parseIpAddressList } from '../../../src/resolver/ip';
import { parseTarget } from '../../../src/resolver/target';
import '../../../src/resolver'; // registers the built-in resolvers

const insecure = grpc.credentials.createInsecure();

/** The outcome of `fn`: its value, or the ConfigError it threw; any other exception fails the property. */
function valueOrConfigError<T>(fn: () => T): T | ConfigError {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

// Pieces that target parsers trip over: scheme-like prefixes, brackets, colons, ports, separators,
// whitespace, control and non-ASCII characters.
const piece = fc.constantFrom(
  'dns:', 'dns://', 'dns:///', 'DNS:', 'ipv4:', 'ipv6:', 'unix:', 'unix://', 'unix:///', 'etcd:///', 'etcdx:', 'foo://',
  'localhost', 'svc.internal', 'a-b.c_d', '127.0.0.1', '1.2.3', '999.1.1.1', '::1', '[::1]', '[', ']', 'fe80::1%eth0',
  ':', '::', ':0', ':1', ':443', ':65535', ':65536', ':-1', ':abc', ':99999999999', '/', '//', ',', ',,', '.', '..',
  ' ', '\t', '\n', '\u0000', '\u0085', 'é', '🚀', '%20', '?', '#', '@', 'x'.repeat(64), '0'.repeat(300),
);
const targetLike = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''));
const anyString = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), targetLike);

describe('any string as a target', () => {
  it('parseTarget returns a target or throws ConfigError at path "target"', () => {
    fc.assert(
      fc.property(anyString, (raw) => {
        const result = valueOrConfigError(() => parseTarget(raw));
        if (result instanceof ConfigError) {
          expect(result.path).toBe('target');
          expect(result.message.startsWith('target: ')).toBe(true);
        } else {
          expect(result.raw).toBe(raw);
          expect(result.scheme).toMatch(/^[a-z][a-z0-9+.-]*$/);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('createChannel returns a channel (no I/O until used) or throws ConfigError naming the target or an option', () => {
    fc.assert(
      fc.property(anyString, (raw) => {
        const result = valueOrConfigError(() => createChannel(raw, insecure));
        if (result instanceof ConfigError) {
          expect(result.path === 'target' || result.path.startsWith('options.')).toBe(true);
          return;
        }
        expect(result.getTarget()).toBe(raw);
        result.close();
      }),
      { numRuns: 1_500 },
    );
  });

  it('non-string targets are a ConfigError too', () => {
    for (const raw of [undefined, null, 42, {}, ['dns:///x'], Symbol('t')]) {
      expect(valueOrConfigError(() => parseTarget(raw as unknown as string))).toBeInstanceOf(ConfigError);
      expect(valueOrConfigError(() => createChannel(raw as unknown as string, insecure))).toBeInstanceOf(ConfigError);
    }
  });
});

// ---- valid targets parse to what they say ---------------------------------------------------------

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => [...labels, 'test'].join('.'));
const port = fc.integer({ min: 1, max: 65_535 });
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));

describe('valid targets', () => {
  it('host:port is a dns target for that host and port', () => {
    fc.assert(
      fc.property(hostName, port, fc.constantFrom('', 'dns:', 'dns:///'), (host, p, prefix) => {
        const target = parseTarget(`${prefix}${host}:${p}`);
        expect(target.scheme).toBe('dns');
        expect(parseDnsTarget(target)).toEqual({ host, port: p, server: undefined });
      }),
    );
  });

  it('dns://server/host:port names the DNS server to ask', () => {
    fc.assert(
      fc.property(ipv4, port, hostName, port, (server, serverPort, host, p) => {
        const target = parseTarget(`dns://${server}:${serverPort}/${host}:${p}`);
        expect(parseDnsTarget(target)).toEqual({ host, port: p, server: `${server}:${serverPort}` });
      }),
    );
  });

  it('ipv4:a:p,b:q lists every address in order, duplicates kept for the resolver to remove', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(ipv4, port), { minLength: 1, maxLength: 6 }), (list) => {
        const target = parseTarget(`ipv4:${list.map(([ip, p]) => `${ip}:${p}`).join(',')}`);
        expect(parseIpAddressList(target, 4)).toEqual(list.map(([host, p]) => ({ host, port: p })));
      }),
    );
  });
});
