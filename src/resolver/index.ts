/**
 * @packageDocumentation
 * `resolver/` turns a target (gRPC `doc/naming.md`) into endpoint lists over time and knows nothing of
 * connections. It owns target parsing (`target.ts`), the registry of resolvers by scheme
 * (`registry.ts`), the built-in `dns` (with gRFC A2 TXT service config), `ipv4`, `ipv6`, `unix` and
 * `etcd` resolvers, and the etcd registration helper. It may import `clock`, `errors`, `backoff` and
 * `json/`; nothing above it.
 *
 * Importing this module registers the built-in resolvers, unless the application registered its own
 * for that scheme first:
 *
 * ```ts
 * import './resolver';
 * const factory = getResolverFactory(parseTarget('dns:///orders.internal:50051').scheme);
 * const resolver = factory!.create(target, { onUpdate, onError }, context);
 * resolver.requestResolution();
 * ```
 */
import { dnsResolverFactory } from './dns';
import { etcdResolverFactory } from './etcd';
import { ipv4ResolverFactory, ipv6ResolverFactory } from './ip';
import { getResolverFactory, registerResolver } from './registry';
import { unixResolverFactory } from './unix';

for (const factory of [dnsResolverFactory, ipv4ResolverFactory, ipv6ResolverFactory, unixResolverFactory, etcdResolverFactory]) {
  if (getResolverFactory(factory.scheme) === undefined) registerResolver(factory);
}
