import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors';
import { endpointsFromAddresses } from './endpoint-list';
import { DEFAULT_PORT, isHostPortError, splitHostPort } from './host-port';
import { createStaticResolver } from './static';
import type { ResolverFactory, Target, TcpAddress } from './types';

/**
 * Parse the path of an `ipv4:` / `ipv6:` target (gRPC `doc/naming.md`):
 * `address[:port][,address[:port],...]`, IPv6 addresses in brackets when a port follows
 * (`ipv6:[::1]:80,[::2]:81`, or bare `ipv6:::1`). A missing port is 443.
 *
 * @param target a target whose scheme is `ipv4` or `ipv6`.
 * @param family 4 or 6: which literal every entry must be.
 * @returns the addresses in order, duplicates kept (see `endpointsFromAddresses`).
 * @throws ConfigError (path `target`) for an authority, an empty list or entry, a bad port
 *   (must be in [1, 65535]), or an entry that is not a literal of the family.
 */
export function parseIpAddressList(target: Target, family: 4 | 6): TcpAddress[] {
  const scheme = `ipv${family}`;
  if (target.authority !== '') {
    throw new ConfigError('target', `${scheme} targets take no authority ("${target.authority}")`, target.raw);
  }
  if (target.path === '') throw new ConfigError('target', `${scheme} target lists no address`, target.raw);
  const isLiteral = family === 4 ? isIPv4 : isIPv6;
  return target.path.split(',').map((entry) => {
    if (entry === '') throw new ConfigError('target', `${scheme} address list has an empty entry`, target.raw);
    const parts = splitHostPort(entry);
    if (isHostPortError(parts)) {
      throw new ConfigError('target', `${scheme} address "${entry}": ${parts.error}`, target.raw);
    }
    if (!isLiteral(parts.host) || (family === 4 && parts.bracketed)) {
      throw new ConfigError('target', `${scheme} address "${parts.host}" is not an IPv${family} literal`, target.raw);
    }
    return { host: parts.host, port: parts.port ?? DEFAULT_PORT };
  });
}

function createIpResolverFactory(family: 4 | 6): ResolverFactory {
  return {
    scheme: `ipv${family}`,
    create(target, listener) {
      return createStaticResolver(listener, endpointsFromAddresses(parseIpAddressList(target, family)));
    },
    defaultAuthority(target) {
      // The first entry as written, like grpc-js: it names the server for TLS and :authority.
      return target.path.split(',')[0]!;
    },
  };
}

/**
 * The `ipv4:` resolver (gRPC `doc/naming.md`): a fixed list of IPv4 addresses, one endpoint each,
 * duplicates removed; reported on every `requestResolution()`, no I/O. Default authority: the first
 * entry as written (e.g. `1.2.3.4:80`).
 */
export const ipv4ResolverFactory: ResolverFactory = createIpResolverFactory(4);

/**
 * The `ipv6:` resolver (gRPC `doc/naming.md`): like {@link ipv4ResolverFactory} for IPv6 literals
 * (`ipv6:[::1]:80,[::2]:81`). Default authority: the first entry as written (e.g. `[::1]:80`).
 */
export const ipv6ResolverFactory: ResolverFactory = createIpResolverFactory(6);
