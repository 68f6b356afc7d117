import { ConfigError } from '../errors';
import { checkFactoryArgument, RESOLVER_FACTORY_MEMBERS } from '../arguments';
import type { ResolverFactory } from './types';

const resolvers = new Map<string, ResolverFactory>();

/**
 * Register a resolver for a URI scheme (matched case-insensitively), so that targets
 * `scheme:[//authority/]path` (gRPC `doc/naming.md`) passed to `createChannel` use it. A later
 * registration for the same scheme replaces the earlier one, so applications can override a built-in
 * resolver. Channels created before the call keep the resolver they were created with.
 * @param factory the resolver factory; `factory.scheme` is the URI scheme, without the `:`.
 * @throws TypeError naming the member if `factory` is not an object with a string `scheme` and the
 *   functions `create` and `defaultAuthority`.
 * @throws ConfigError (path `scheme`) if the scheme is not a valid URI scheme (RFC 3986 §3.1).
 */
export function registerResolver(factory: ResolverFactory): void {
  checkFactoryArgument('registerResolver', factory, RESOLVER_FACTORY_MEMBERS);
  if (!/^[a-z][a-z0-9+.-]*$/i.test(factory.scheme)) {
    throw new ConfigError('scheme', 'must be a URI scheme (a letter, then letters, digits, "+", "-" or ".")', factory.scheme);
  }
  resolvers.set(factory.scheme.toLowerCase(), factory);
}

/** The resolver registered for a scheme, if any. Internal. */
export function getResolverFactory(scheme: string): ResolverFactory | undefined {
  return resolvers.get(scheme.toLowerCase());
}

/** The registered schemes, for error messages. Internal. */
export function registeredSchemes(): string[] {
  return [...resolvers.keys()].sort();
}
