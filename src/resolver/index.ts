import { dnsResolverFactory } from './dns';
import { ipv4ResolverFactory, ipv6ResolverFactory } from './ip';
import { getResolverFactory, registerResolver } from './registry';
import { unixResolverFactory } from './unix';
import { etcdResolverFactory } from './etcd';

/**
 * Register the built-in resolvers — `dns`, `ipv4`, `ipv6`, `unix` (gRPC `doc/naming.md`) and `etcd` — unless the
 * application already registered its own for that scheme. Runs once at import of this module;
 * calling it again is harmless (idempotent).
 */
export function registerBuiltinResolvers(): void {
  for (const factory of [dnsResolverFactory, ipv4ResolverFactory, ipv6ResolverFactory, unixResolverFactory, etcdResolverFactory]) {
    if (getResolverFactory(factory.scheme) === undefined) registerResolver(factory);
  }
}

registerBuiltinResolvers();

export { parseTarget, DEFAULT_SCHEME } from './target';
export { registerResolver } from './registry';
export { createDnsResolverFactory, dnsResolverFactory, parseDnsTarget } from './dns';
export type { DnsResolverFactoryOptions, DnsTarget } from './dns';
export type { DnsQueries, DnsQueriesFactory } from './dns-queries';
export { MAX_SERVICE_CONFIG_TXT_BYTES } from './dns-txt-config';
export type { ServiceConfigLookupOptions } from './dns-txt-config';
export { ipv4ResolverFactory, ipv6ResolverFactory } from './ip';
export { unixResolverFactory } from './unix';
