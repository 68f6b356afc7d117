import { ConfigError } from '../errors';
import { createStaticResolver } from './static';
import { hasAuthoritySection } from './target';
import type { ResolverFactory, Target } from './types';

/**
 * The socket path of a `unix:` target (gRPC `doc/naming.md`): `unix:path` (relative or absolute)
 * or `unix://absolute_path` (three slashes: `unix:///tmp/s.sock` is `/tmp/s.sock`).
 *
 * @throws ConfigError (path `target`) for an empty path or a non-empty authority
 *   (`unix://host/path`: the `//` form takes an absolute path, not a host).
 */
export function parseUnixPath(target: Target): string {
  if (hasAuthoritySection(target)) {
    if (target.authority !== '') {
      throw new ConfigError('target', `unix targets take no authority ("${target.authority}"); write unix:///absolute/path`, target.raw);
    }
    if (target.path === '') throw new ConfigError('target', 'unix target has an empty path', target.raw);
    return `/${target.path}`;
  }
  if (target.path === '') throw new ConfigError('target', 'unix target has an empty path', target.raw);
  return target.path;
}

/**
 * The `unix:` resolver (gRPC `doc/naming.md`): one endpoint at the socket path, reported on every
 * `requestResolution()`, no I/O (a missing socket shows up when connecting). Default authority
 * `localhost`, as in grpc-core and grpc-js.
 */
export const unixResolverFactory: ResolverFactory = {
  scheme: 'unix',
  create(target, listener) {
    return createStaticResolver(listener, [{ addresses: [{ path: parseUnixPath(target) }] }]);
  },
  defaultAuthority() {
    return 'localhost';
  },
};
